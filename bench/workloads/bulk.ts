// Bulk actions (issue 17): a requeue of 100,000 dead letters by filter must not stall other clients. While
// the bulk request runs, one client asks /health back to back; its p99 must stay under 50 ms. The dead
// letters are made by a bulk cancel by filter (canceled tasks are dead letters), measured the same way.
import type { Client } from '../lib/client.ts'
import type { Workload } from '../lib/types.ts'
import { createClient } from '../lib/client.ts'
import { BULK_SIZE } from '../lib/pipeline.ts'
import { round, summarize } from '../lib/stats.ts'

const FULL = { tasks: 100_000 }
const QUICK = { tasks: 10_000 }
const HEALTH_P99_LIMIT_MS = 50
const BULK_DEADLINE_MS = 10 * 60_000

/** GET /health back to back until `done` settles (bounded by the bulk's deadline); the latencies in ms. */
async function healthDuring(client: Client, done: Promise<unknown>): Promise<number[]> {
  let isDone = false
  void done.finally(() => { isDone = true })
  const samples: number[] = []
  const until = performance.now() + BULK_DEADLINE_MS
  while (!isDone && performance.now() < until) {
    const t0 = performance.now()
    await client.call('GET', '/health', undefined, [200])
    samples.push(performance.now() - t0)
  }
  return samples
}

/** One bulk request with /health measured beside it. */
async function measured(bulk: Client, health: Client, path: string, body: unknown) {
  const t0 = performance.now()
  const request = bulk.call('POST', path, body, [200])
  const samples = await healthDuring(health, request)
  const reply = await request
  return { seconds: (performance.now() - t0) / 1000, health: summarize(samples), matched: reply.body.matched as number, changed: reply.body.changed as number }
}

const workload: Workload = {
  name: 'bulk',
  description: 'bulk cancel, then bulk requeue by filter, of 100,000 tasks: duration, and /health p99 from another client meanwhile',
  drivers: ['sqlite', 'postgres'],
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const docket = await ctx.startDocket([], { label: `${size.tasks} tasks` })
    const bulk = createClient(docket.url, 1)
    const health = createClient(docket.url, 1)
    try {
      const definition = { initial: 'work', states: { work: { agent_role: 'bulk-agent' }, done: { terminal: true } }, transitions: [{ from: 'work', to: 'done', trigger: 'complete' }] }
      const pipelineId = (await bulk.call('POST', '/pipelines', { name: 'bulk', definition }, [201])).body.id as string
      for (let made = 0; made < size.tasks; made += BULK_SIZE) {
        const tasks = Array.from({ length: Math.min(BULK_SIZE, size.tasks - made) }, (_, i) => ({ pipeline_id: pipelineId, title: `t${made + i}`, description: 'd' }))
        await bulk.call('POST', '/tasks/bulk', { tasks }, [201])
      }
      const idle = summarize(await healthDuring(health, new Promise((resolve) => setTimeout(resolve, 1_000))))
      ctx.log(`${size.tasks} tasks created; /health p99 idle ${round(idle.p99)} ms`)
      const cancel = await measured(bulk, health, '/tasks/cancel', { filter: { pipeline_id: pipelineId } })
      ctx.log(`cancel: ${cancel.changed} in ${round(cancel.seconds)} s, /health p99 ${round(cancel.health.p99)} ms`)
      const requeue = await measured(bulk, health, '/tasks/requeue', { filter: { pipeline_id: pipelineId, status: 'canceled' } })
      ctx.log(`requeue: ${requeue.changed} in ${round(requeue.seconds)} s, /health p99 ${round(requeue.health.p99)} ms`)
      if (requeue.changed !== size.tasks || cancel.changed !== size.tasks) throw new Error(`changed ${cancel.changed} / ${requeue.changed} of ${size.tasks}`)
      return {
        metrics: {
          tasks: size.tasks,
          health_idle_p99_ms: round(idle.p99),
          cancel_s: round(cancel.seconds),
          cancel_tasks_per_s: round(size.tasks / cancel.seconds),
          cancel_health_p99_ms: round(cancel.health.p99),
          requeue_s: round(requeue.seconds),
          requeue_tasks_per_s: round(size.tasks / requeue.seconds),
          requeue_health_p99_ms: round(requeue.health.p99),
          requeue_health_max_ms: round(requeue.health.max),
          requeue_health_samples: requeue.health.count,
          health_p99_under_limit: requeue.health.p99 < HEALTH_P99_LIMIT_MS ? 'yes' : 'NO',
        },
        notes: [
          `Batches of 200 items, each its own transaction, with a turn of the event loop between them; the limit for /health p99 is ${HEALTH_P99_LIMIT_MS} ms.`,
          'The requeued tasks are the dead letters the bulk cancel made (status canceled): failing 100,000 runs first would measure claims; a requeue does the same work for either kind.',
        ],
      }
    } finally {
      await bulk.close()
      await health.close()
      await docket.stop()
    }
  },
}

export default workload
