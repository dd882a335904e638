// Enqueue throughput over HTTP: tasks created one per request, then in bulk requests of 500, each on
// keep-alive connections (undici Pool, cheaper on the shared CPU than fetch).
import { Pool } from 'undici'
import type { BenchContext, Workload, WorkloadResult } from '../lib/types.ts'

const BATCH = 500
const CONNECTIONS = 8

type Timing = { tasks: number; seconds: number; latenciesMs: number[] }

async function post(pool: Pool, path: string, body: unknown): Promise<unknown> {
  const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.body.text()
  if (res.statusCode !== 201) throw new Error(`POST ${path} answered ${res.statusCode}: ${text.slice(0, 200)}`)
  return JSON.parse(text)
}

async function createPipeline(pool: Pool, name: string): Promise<string> {
  const definition = {
    initial: 'todo',
    states: { todo: { agent_role: `${name}-worker` }, done: { terminal: true } },
    transitions: [{ from: 'todo', to: 'done', trigger: 'complete' }],
  }
  return ((await post(pool, '/pipelines', { name, definition })) as { id: string }).id
}

const task = (pipelineId: string, i: number) => ({
  pipeline_id: pipelineId, title: `task ${i}`, description: 'enqueue benchmark', priority: i % 10, metadata: { i },
})

/** `requests` requests spread over CONNECTIONS workers, each sending its next one when the last is answered. */
async function timeRequests(requests: number, tasksPerRequest: number, send: (i: number) => Promise<unknown>): Promise<Timing> {
  const latenciesMs: number[] = []
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < requests) {
      const i = next++
      const t0 = performance.now()
      await send(i)
      latenciesMs.push(performance.now() - t0)
    }
  }))
  return { tasks: requests * tasksPerRequest, seconds: (performance.now() - started) / 1000, latenciesMs }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
const round = (n: number, digits = 1) => Number(n.toFixed(digits))

async function countTasks(pool: Pool): Promise<number> {
  const res = await pool.request({ method: 'GET', path: '/health' })
  const health = (await res.body.json()) as { tasks_by_stage: Array<{ count: number }> }
  return health.tasks_by_stage.reduce((sum, s) => sum + s.count, 0)
}

const workload: Workload = {
  name: 'enqueue',
  description: `Creates tasks over HTTP: one per POST /tasks, then POST /tasks/bulk of ${BATCH}; ${CONNECTIONS} keep-alive connections.`,
  async run(ctx: BenchContext): Promise<WorkloadResult> {
    const total = ctx.quick ? 2_000 : 10_000
    const docket = await ctx.startDocket()
    const pool = new Pool(docket.url, { connections: CONNECTIONS, pipelining: 1 })
    try {
      const singlePipeline = await createPipeline(pool, `enqueue-single-${docket.pid}`)
      ctx.log(`single creates: ${total} tasks`)
      const single = await timeRequests(total, 1, (i) => post(pool, '/tasks', task(singlePipeline, i)))

      const bulkPipeline = await createPipeline(pool, `enqueue-bulk-${docket.pid}`)
      ctx.log(`bulk creates: ${total} tasks in batches of ${BATCH}`)
      const bulk = await timeRequests(Math.ceil(total / BATCH), BATCH, (b) =>
        post(pool, '/tasks/bulk', { tasks: Array.from({ length: BATCH }, (_, i) => task(bulkPipeline, b * BATCH + i)) }))

      const stored = await countTasks(pool)
      if (stored !== single.tasks + bulk.tasks) throw new Error(`expected ${single.tasks + bulk.tasks} tasks, /health counts ${stored}`)
      return {
        metrics: {
          tasks: total,
          single_tasks_per_s: Math.round(single.tasks / single.seconds),
          single_p50_ms: round(percentile(single.latenciesMs, 50), 2),
          single_p99_ms: round(percentile(single.latenciesMs, 99), 2),
          bulk_tasks_per_s: Math.round(bulk.tasks / bulk.seconds),
          bulk_batch_p50_ms: round(percentile(bulk.latenciesMs, 50)),
          bulk_batch_p99_ms: round(percentile(bulk.latenciesMs, 99)),
          ratio_bulk_to_single: round(single.seconds / single.tasks / (bulk.seconds / bulk.tasks), 2),
          peak_rss_mb: round(docket.peakRssMb()),
        },
        notes: [
          'Single creates pay one HTTP request and one commit per task; the server is single-threaded, so more connections only queue.',
          `Bulk creates pay one commit per ${BATCH} tasks: per-task cost is JSON parsing, valibot validation and the inserts into tasks and its four indexes.`,
        ],
      }
    } finally {
      await pool.close()
      await docket.stop()
    }
  },
}

export default workload
