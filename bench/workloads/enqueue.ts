// Enqueue throughput over HTTP: tasks created one per request, then in bulk requests of 500, each on
// keep-alive connections of the shared client.
import type { Workload } from '../lib/types.ts'
import { createClient, type Client } from '../lib/client.ts'
import { BULK_SIZE, cycleDefinition } from '../lib/pipeline.ts'
import { round, summarize } from '../lib/stats.ts'

const CONNECTIONS = 8
const FULL = { tasks: 10_000, deadlineMs: 60_000 }
const QUICK = { tasks: 5_000, deadlineMs: 20_000 }

type Timing = { requests: number; tasks: number; seconds: number; latenciesMs: number[]; timedOut: boolean }

/**
 * `requests` requests spread over CONNECTIONS workers, each sending its next one when the last is answered;
 * no new request is sent once `deadlineMs` has passed.
 */
async function timeRequests(requests: number, tasksPerRequest: number, deadlineMs: number, send: (i: number) => Promise<unknown>): Promise<Timing> {
  const latenciesMs: number[] = []
  let next = 0
  let timedOut = false
  const started = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < requests) {
      if (performance.now() - started > deadlineMs) {
        timedOut = true
        return
      }
      const i = next++
      const t0 = performance.now()
      await send(i)
      latenciesMs.push(performance.now() - t0)
    }
  }))
  const done = latenciesMs.length
  return { requests: done, tasks: done * tasksPerRequest, seconds: (performance.now() - started) / 1000, latenciesMs, timedOut }
}

const task = (pipelineId: string, i: number) => ({
  pipeline_id: pipelineId, title: `task ${i}`, description: 'enqueue benchmark', priority: i % 10, metadata: { i },
})

async function createPipeline(client: Client, name: string): Promise<string> {
  return (await client.call('POST', '/pipelines', { name, definition: cycleDefinition(`${name}-worker`) }, [201])).body.id as string
}

async function countTasks(client: Client): Promise<number> {
  const health = (await client.call('GET', '/health', undefined, [200])).body as { tasks_by_stage: Array<{ count: number }> }
  return health.tasks_by_stage.reduce((sum, s) => sum + s.count, 0)
}

const workload: Workload = {
  name: 'enqueue',
  description: `tasks created over HTTP: one per POST /tasks, then POST /tasks/bulk of ${BULK_SIZE}; ${CONNECTIONS} keep-alive connections`,
  drivers: ['sqlite', 'postgres'],
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const docket = await ctx.startDocket()
    const client = createClient(docket.url, CONNECTIONS)
    try {
      const singlePipeline = await createPipeline(client, 'enqueue-single')
      ctx.log(`single creates: ${size.tasks} tasks`)
      const single = await timeRequests(size.tasks, 1, size.deadlineMs, (i) => client.call('POST', '/tasks', task(singlePipeline, i), [201]))

      const bulkPipeline = await createPipeline(client, 'enqueue-bulk')
      ctx.log(`bulk creates: ${size.tasks} tasks in batches of ${BULK_SIZE}`)
      const bulk = await timeRequests(Math.ceil(size.tasks / BULK_SIZE), BULK_SIZE, size.deadlineMs, (b) =>
        client.call('POST', '/tasks/bulk', { tasks: Array.from({ length: BULK_SIZE }, (_, i) => task(bulkPipeline, b * BULK_SIZE + i)) }, [201]))

      const stored = await countTasks(client)
      if (stored !== single.tasks + bulk.tasks) throw new Error(`expected ${single.tasks + bulk.tasks} tasks, /health counts ${stored}`)
      const s = summarize(single.latenciesMs)
      const b = summarize(bulk.latenciesMs)
      const notes = [
        'Single creates pay one HTTP request and one commit per task; the server is single-threaded, so more connections only queue.',
        `Bulk creates pay one commit per ${BULK_SIZE} tasks: per-task cost is JSON parsing, valibot validation and the inserts into tasks and its indexes.`,
      ]
      for (const [name, t] of [['single', single], ['bulk', bulk]] as const) {
        if (t.timedOut) notes.push(`${name}: stopped by the ${size.deadlineMs / 1000} s deadline after ${t.tasks} of ${size.tasks} tasks.`)
      }
      return {
        metrics: {
          tasks: size.tasks,
          single_tasks_per_s: round(single.tasks / single.seconds),
          single_p50_ms: round(s.p50),
          single_p99_ms: round(s.p99),
          bulk_tasks_per_s: round(bulk.tasks / bulk.seconds),
          bulk_batch_p50_ms: round(b.p50),
          bulk_batch_p99_ms: round(b.p99),
          ratio_bulk_to_single: round((bulk.tasks / bulk.seconds) / (single.tasks / single.seconds)),
          peak_rss_mb: round(docket.peakRssMb()),
        },
        notes,
      }
    } finally {
      await client.close()
      await docket.stop()
    }
  },
}

export default workload
