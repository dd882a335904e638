import { statSync } from 'node:fs'
import type { BenchContext, DocketProcess, Workload } from '../lib/types.ts'
import { createClient, type Client } from '../lib/client.ts'
import { SCALE_ROLE, seedDatabase, type SeedPlan } from '../lib/seed.ts'
import { seedPostgres } from '../lib/seed-postgres.ts'
import { round, summarize } from '../lib/stats.ts'

const FULL = { big: 1_000_000, small: 1_000, blocked: 10_000, warmup: 100, claims: 600 }
const QUICK = { big: 100_000, small: 1_000, blocked: 10_000, warmup: 50, claims: 200 }
const SEED_DEADLINE_MS = 180_000
const RUN_DEADLINE_MS = 60_000

type Queue = { label: string; plan: SeedPlan; docket?: DocketProcess; client?: Client; samples: number[]; wrongPick: number; seedSeconds: number; dbMb: number }

/** A Docket over a database file filled before it starts (see seed.ts). */
async function startQueue(ctx: BenchContext, q: Queue): Promise<void> {
  q.docket = await ctx.startDocket([], {
    label: q.label,
    async prepareDb(db) {
      if (ctx.driver === 'postgres') {
        q.seedSeconds = (await seedPostgres(db, q.plan)).seconds
      } else {
        q.seedSeconds = seedDatabase(db, q.plan).seconds
        q.dbMb = statSync(db).size / 2 ** 20
      }
      ctx.log(`${q.label}: seeded in ${round(q.seedSeconds)} s${ctx.driver === 'sqlite' ? ` (${round(q.dbMb)} MiB)` : ''}`)
    },
  })
  q.client = createClient(q.docket.url, 1)
}

/** One claim → transition on one queue; returns the claim's latency in ms. */
async function cycle(q: Queue): Promise<number> {
  const t0 = performance.now()
  const claim = await q.client!.call('POST', '/leases/claim', { agent_id: 'agent-0', agent_role: SCALE_ROLE }, [200])
  const ms = performance.now() - t0
  // A blocked task (priority 10) must never be handed out while its upstream is open.
  if (claim.body.task.priority !== 0) q.wrongPick += 1
  await q.client!.call('POST', `/runs/${encodeURIComponent(claim.body.run.id)}/transition`, { trigger: 'complete' }, [200],
    { authorization: `Bearer ${claim.body.lease_token}` })
  return ms
}

const workload: Workload = {
  name: 'scale',
  description: 'claim latency with 1,000 vs 1,000,000 queued tasks, and behind 10,000 blocked higher-priority tasks',
  drivers: ['sqlite', 'postgres'],
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`)
    const queue = (label: string, plan: Omit<SeedPlan, 'deadlineMs'>): Queue =>
      ({ label, plan: { ...plan, deadlineMs: SEED_DEADLINE_MS }, samples: [], wrongPick: 0, seedSeconds: 0, dbMb: 0 })
    const small = queue(`${size.small} queued`, { queued: size.small })
    const big = queue(`${size.big} queued`, { queued: size.big })
    const blocked = queue(`${size.small} queued + ${size.blocked} blocked`, { queued: size.small, blocked: size.blocked })
    const queues = [small, big, blocked]
    try {
      for (const q of queues) await startQueue(ctx, q)
      // Round-robin, one request at a time: the machine's drift (other load, frequency) hits all three alike,
      // and no claim queues behind another.
      const deadline = performance.now() + RUN_DEADLINE_MS
      for (let i = 0; i < size.warmup + size.claims && performance.now() < deadline; i++) {
        for (const q of queues) {
          const ms = await cycle(q)
          if (i >= size.warmup) q.samples.push(ms)
        }
      }
    } finally {
      for (const q of queues) {
        await q.client?.close()
        if (q.docket) ctx.log(`${q.label}: peak RSS ${round(q.docket.peakRssMb())} MiB`)
      }
    }
    const rss = queues.map((q) => q.docket!.peakRssMb())
    for (const q of queues) await q.docket!.stop()
    const [s, b, x] = queues.map((q) => summarize(q.samples))
    for (const [q, m] of [[small, s], [big, b], [blocked, x]] as const) {
      ctx.log(`${q.label}: claim p50 ${round(m.p50)} ms, p99 ${round(m.p99)} ms over ${m.count} claims`)
    }
    return {
      metrics: {
        [`ratio_p50_${k(size.big)}_to_${k(size.small)}`]: round(b.p50 / s.p50),
        [`ratio_p50_blocked_to_${k(size.small)}`]: round(x.p50 / s.p50),
        [`q${k(size.small)}_claim_p50_ms`]: round(s.p50),
        [`q${k(size.small)}_claim_p99_ms`]: round(s.p99),
        [`q${k(size.big)}_claim_p50_ms`]: round(b.p50),
        [`q${k(size.big)}_claim_p99_ms`]: round(b.p99),
        blocked_claim_p50_ms: round(x.p50),
        blocked_claim_p99_ms: round(x.p99),
        blocked_tasks_handed_out: blocked.wrongPick,
        [`q${k(size.small)}_peak_rss_mb`]: round(rss[0]),
        [`q${k(size.big)}_peak_rss_mb`]: round(rss[1]),
        blocked_peak_rss_mb: round(rss[2]),
        [`q${k(size.big)}_seed_s`]: round(big.seedSeconds),
        ...(ctx.driver === 'sqlite' ? { [`q${k(size.big)}_db_mb`]: round(big.dbMb) } : {}),
      },
      notes: [
        ctx.driver === 'sqlite'
          ? `Queues are written straight into each database file with Docket's own task store before Docket starts (${round(big.seedSeconds)} s for ${size.big.toLocaleString('en-US')}); bulk HTTP would measure enqueue, not claims.`
          : `Queues are written through Docket's own PostgreSQL driver in transactions of 10,000 (seed-postgres.ts) before Docket starts (${round(big.seedSeconds)} s for ${size.big.toLocaleString('en-US')}); bulk HTTP would measure enqueue, not claims.`,
        `Three Dockets side by side, one agent, one request at a time, round-robin: ${size.warmup} unmeasured then ${s.count} measured claim → transition cycles each.`,
      ],
    }
  },
}

export default workload
