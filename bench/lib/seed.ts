import * as v from 'valibot'
import { closeDb, openDb } from '../../src/store/sqlite/db.ts'
import { createStore } from '../../src/store/sqlite/index.ts'
import { compilePipeline, DefinitionSchema } from '../../src/domain/pipeline.ts'
import { cycleDefinition } from './pipeline.ts'

export type SeedPlan = {
  /** Claimable tasks at priority 0 in the measured pipeline (role `scale-agent`). */
  queued: number
  /** Tasks at priority 10 in the same pipeline, each waiting on one upstream task that never finishes. */
  blocked?: number
  deadlineMs: number
}

export const SCALE_ROLE = 'scale-agent'
const CHUNK = 10_000

/**
 * Writes the tasks straight into the database file with Docket's own stores (the same rows, triggers and
 * index entries a bulk create makes, minus HTTP and validation), in transactions of 10,000.
 */
export function seedDatabase(dbPath: string, plan: SeedPlan): { seconds: number } {
  const started = performance.now()
  const db = openDb(dbPath)
  try {
    const store = createStore(db)
    const pipeline = (name: string, role: string) => {
      const def = cycleDefinition(role)
      return store.pipelines.create(name, def, compilePipeline(v.parse(DefinitionSchema, def)), Date.now())
    }
    const deadline = started + plan.deadlineMs
    const insert = (pipelineId: string, count: number, fields: { priority?: number; dependencies?: string[] }) => {
      for (let done = 0; done < count; done += CHUNK) {
        if (performance.now() > deadline) throw new Error(`seeding did not finish within ${plan.deadlineMs} ms (${done} of ${count})`)
        db.transaction(() => {
          const now = Date.now()
          for (let i = done; i < Math.min(count, done + CHUNK); i++) {
            const id = store.tasks.create({ pipeline_id: pipelineId, title: `task ${i}`, description: 'bench', priority: fields.priority }, now)
            if (fields.dependencies) store.dependencies.addAtCreate(id, fields.dependencies, now)
          }
        }).immediate()
      }
    }
    const measured = db.transaction(() => pipeline('scale', SCALE_ROLE)).immediate()
    if (plan.blocked) {
      // The upstream sits in a pipeline nobody claims from, so the blocked tasks stay blocked all run long.
      const upstream = db.transaction(() => {
        const blocker = pipeline('blocker', 'nobody')
        return store.tasks.create({ pipeline_id: blocker, title: 'upstream', description: 'never finishes' }, Date.now())
      }).immediate()
      insert(measured, plan.blocked, { priority: 10, dependencies: [upstream] })
    }
    insert(measured, plan.queued, {})
    // The stores' API moves; a seed that silently stopped blocking would make the blocked case meaningless.
    const blocked = db.prepare('SELECT count(*) FROM tasks WHERE open_dependencies > 0').pluck().get()
    if (blocked !== (plan.blocked ?? 0)) throw new Error(`seeded ${blocked} blocked tasks, expected ${plan.blocked ?? 0}`)
  } finally {
    closeDb(db)
  }
  return { seconds: (performance.now() - started) / 1000 }
}
