import type { Db } from './db.ts'
import { createPipelineStore } from './pipelines.ts'
import { createTaskStore } from './tasks.ts'
import { createRunStore } from './runs.ts'
import { createDependencyStore } from './dependencies.ts'
import { createAssignmentStore } from './assignments.ts'
import { createIdempotencyStore } from './idempotency.ts'
import { createHealthStore } from './health.ts'
import { createKvStore } from './kv.ts'

export type Store = ReturnType<typeof createStore>

/** Every statement Docket runs, prepared once per database handle. */
export function createStore(db: Db) {
  const pipelines = createPipelineStore(db)
  const tasks = createTaskStore(db, pipelines)
  return {
    pipelines,
    tasks,
    runs: createRunStore(db),
    dependencies: createDependencyStore(db, tasks),
    assignments: createAssignmentStore(db, tasks),
    idempotency: createIdempotencyStore(db),
    health: createHealthStore(db),
    kv: createKvStore(db),
  }
}
