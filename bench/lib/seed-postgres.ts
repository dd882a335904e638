// scale's queues on PostgreSQL: written through Docket's own PostgreSQL driver (the same rows, triggers and
// index entries a bulk create makes, minus HTTP), in transactions of 10,000 tasks, before Docket starts.
import * as v from 'valibot'
import { openPostgresDriver } from '../../src/store/postgres/driver.ts'
import { compilePipeline, DefinitionSchema } from '../../src/domain/pipeline.ts'
import { silentLog } from '../../src/log.ts'
import { systemClock } from '../../src/clock.ts'
import type { Changes, Driver } from '../../src/store/driver.ts'
import { cycleDefinition } from './pipeline.ts'
import { SCALE_ROLE, type SeedPlan } from './seed.ts'

const CHUNK = 10_000
const NO_KEY = { key: null, requestHash: Buffer.alloc(0) }

/** Runs one change and hands back its result (the bench records no Idempotency-Key answer). */
async function change<T>(driver: Driver, run: (c: Changes) => T | Promise<T>): Promise<T> {
  let result: T | undefined
  await driver.write(run, { ...NO_KEY, answer: (r) => { result = r; return { status: 200, body: null } } })
  return result!
}

export async function seedPostgres(url: string, plan: SeedPlan): Promise<{ seconds: number }> {
  const started = performance.now()
  const driver = await openPostgresDriver({ url, poolSize: 2, clock: systemClock, log: silentLog })
  try {
    const deadline = started + plan.deadlineMs
    const pipeline = (name: string, role: string) => {
      const def = cycleDefinition(role)
      return change(driver, (c) => c.createPipeline(name, def, compilePipeline(v.parse(DefinitionSchema, def)), Date.now()))
    }
    const insert = async (pipelineId: string, count: number, fields: { priority?: number; dependencies?: string[] }) => {
      for (let done = 0; done < count; done += CHUNK) {
        if (performance.now() > deadline) throw new Error(`seeding did not finish within ${plan.deadlineMs} ms (${done} of ${count})`)
        const tasks = Array.from({ length: Math.min(CHUNK, count - done) }, (_, i) =>
          ({ pipeline_id: pipelineId, title: `task ${done + i}`, description: 'bench', priority: fields.priority, dependencies: fields.dependencies }))
        await change(driver, (c) => c.createTasks(tasks, Date.now()))
      }
    }
    const measured = await pipeline('scale', SCALE_ROLE)
    if (plan.blocked) {
      const blocker = await pipeline('blocker', 'nobody')
      const [upstream] = await change(driver, (c) => c.createTasks([{ pipeline_id: blocker, title: 'upstream', description: 'never finishes' }], Date.now()))
      await insert(measured, plan.blocked, { priority: 10, dependencies: [upstream] })
    }
    await insert(measured, plan.queued, {})
  } finally {
    await driver.close()
  }
  return { seconds: (performance.now() - started) / 1000 }
}
