import type { Db } from './db.ts'
import { createPipelineStore } from './pipelines.ts'
import { createTaskStore } from './tasks.ts'
import { createRunStore } from './runs.ts'
import { createDependencyStore } from './dependencies.ts'
import { createAssignmentStore } from './assignments.ts'
import { createIdempotencyStore } from './idempotency.ts'
import { createHealthStore } from './health.ts'
import { createEventStore } from './events.ts'
import { createLeaseStore } from './leases.ts'
import { createOutcomeStore } from './outcomes.ts'
import { createArtifactStore } from './artifacts.ts'
import { createOpsStore } from './ops.ts'
import { createSpanStore } from './spans.ts'
import { createKvStore } from './kv.ts'
import { createConsoleStore } from './console.ts'
import { createTaskEventStore } from './task-events.ts'
import { createTaskLookups } from './task-lookups.ts'
import { createScheduleStore } from './schedules.ts'
import { createTallyStore } from './tally.ts'
import { createTaskPages } from './task-pages.ts'

export type Store = ReturnType<typeof createStore>

/**
 * Every statement Docket runs, prepared once per database handle. `onEligibleAt` hears of every time at
 * which a task will become claimable by the clock (not_before_ms, a retry delay), so waiting claims can be
 * woken then; it is told inside the change, and a change that rolls back only causes a needless wake-up.
 */
export function createStore(db: Db, onEligibleAt: (atMs: number) => void = () => {}) {
  const pipelines = createPipelineStore(db)
  const tasks = createTaskStore(db, pipelines, onEligibleAt)
  const events = createEventStore(db)
  const runs = createRunStore(db)
  return {
    pipelines,
    tasks,
    taskPages: createTaskPages(db, pipelines),
    runs,
    dependencies: createDependencyStore(db, tasks),
    assignments: createAssignmentStore(db, tasks),
    idempotency: createIdempotencyStore(db),
    health: createHealthStore(db),
    events,
    leases: createLeaseStore(db),
    outcomes: createOutcomeStore(db, tasks, events, onEligibleAt),
    artifacts: createArtifactStore(db),
    ops: createOpsStore(db),
    spans: createSpanStore(db),
    kv: createKvStore(db),
    console: createConsoleStore(db),
    taskEvents: createTaskEventStore(db),
    taskLookups: createTaskLookups(db),
    schedules: createScheduleStore(db),
    tally: createTallyStore(db),
  }
}
