import type { Workload } from '../lib/types.ts'
import { createClient } from '../lib/client.ts'
import { SCALE_ROLE, seedDatabase } from '../lib/seed.ts'
import { seedPostgres } from '../lib/seed-postgres.ts'
import { round, summarize } from '../lib/stats.ts'

// The bound: a scrape at a million tasks stays under 50 ms (p50).
const FULL = { queued: 1_000_000, blocked: 10_000, leased: 8, warmup: 10, scrapes: 100 }
const QUICK = { queued: 100_000, blocked: 10_000, leased: 8, warmup: 5, scrapes: 40 }
const SEED_DEADLINE_MS = 180_000
const RUN_DEADLINE_MS = 60_000

/** The docket_tasks sample of one state in the measured pipeline's first stage (the seed's `scale` pipeline). */
function tasksIn(text: string, state: string): number {
  const line = text.split('\n').find((l) => l.startsWith('docket_tasks{') && l.includes('pipeline="scale"') && l.includes(`state="${state}"`))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

const workload: Workload = {
  name: 'metrics',
  description: 'GET /metrics at a million queued tasks (plus blocked and leased ones): scrape latency',
  drivers: ['sqlite', 'postgres'],
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    let seedSeconds = 0
    const docket = await ctx.startDocket([], {
      label: 'metrics',
      async prepareDb(db) {
        const plan = { queued: size.queued, blocked: size.blocked, deadlineMs: SEED_DEADLINE_MS }
        seedSeconds = ctx.driver === 'postgres' ? (await seedPostgres(db, plan)).seconds : seedDatabase(db, plan).seconds
        ctx.log(`seeded ${size.queued + size.blocked} tasks in ${round(seedSeconds)} s`)
      },
    })
    const client = createClient(docket.url, 1)
    const samples: number[] = []
    let last = ''
    try {
      for (let i = 0; i < size.leased; i++) await client.call('POST', '/leases/claim', { agent_id: `agent-${i}`, agent_role: SCALE_ROLE }, [200])
      const deadline = performance.now() + RUN_DEADLINE_MS
      for (let i = 0; i < size.warmup + size.scrapes && performance.now() < deadline; i++) {
        const t0 = performance.now()
        const res = await client.send('GET', '/metrics', undefined, {})
        const ms = performance.now() - t0
        if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
        if (i >= size.warmup) samples.push(ms)
        last = res.body.toString()
      }
    } finally {
      await client.close()
    }
    const rss = docket.peakRssMb()
    await docket.stop()
    // The scrape must count what was seeded, or its speed means nothing.
    const counted = { claimable: tasksIn(last, 'claimable'), blocked: tasksIn(last, 'blocked'), leased: tasksIn(last, 'leased') }
    const expected = { claimable: size.queued - size.leased, blocked: size.blocked, leased: size.leased }
    if (JSON.stringify(counted) !== JSON.stringify(expected)) throw new Error(`scrape counted ${JSON.stringify(counted)}, expected ${JSON.stringify(expected)}`)
    const m = summarize(samples)
    ctx.log(`scrape p50 ${round(m.p50)} ms, p99 ${round(m.p99)} ms over ${m.count} scrapes, ${last.length} bytes`)
    return {
      metrics: {
        scrape_p50_ms: round(m.p50),
        scrape_p99_ms: round(m.p99),
        scrape_bytes: last.length,
        tasks: size.queued + size.blocked,
        seed_s: round(seedSeconds),
        peak_rss_mb: round(rss),
      },
      notes: [
        `One scraper, one request at a time: ${size.warmup} unmeasured then ${m.count} measured scrapes of a Docket holding ${(size.queued + size.blocked).toLocaleString('en-US')} tasks (${size.leased} of them leased).`,
        'Task gauges come from trigger-kept counts and small indexes (task_counts, live leases, tasks_delayed, a skip-scan of tasks_claimable per priority level), so the scrape does not grow with the task count.',
      ],
    }
  },
}

export default workload
