import { statSync } from 'node:fs'
import type { BenchContext, Workload } from '../lib/types.ts'
import { createClient } from '../lib/client.ts'
import { SCALE_ROLE, type SeedPlan } from '../lib/seed.ts'
import { runChild } from '../lib/child.ts'
import { round, summarize } from '../lib/stats.ts'

const FULL = { big: 1_000_000, small: 1_000, blocked: 10_000, warmup: 100, claims: 500 }
const QUICK = { big: 100_000, small: 1_000, blocked: 10_000, warmup: 50, claims: 200 }
const SEED_DEADLINE_MS = 180_000
const RUN_DEADLINE_MS = 30_000

type Measure = { claim: ReturnType<typeof summarize>; peakRssMb: number; seedSeconds: number; dbMb: number; wrongPick: number }

/**
 * One agent, one request at a time, so the numbers are the claim's own cost at this queue size and not
 * queueing behind other agents: `warmup` unmeasured cycles, then `claims` measured claim → transition cycles.
 */
async function measure(ctx: BenchContext, label: string, plan: SeedPlan, warmup: number, claims: number): Promise<Measure> {
  let seedSeconds = 0
  let dbMb = 0
  const docket = await ctx.startDocket([], {
    label,
    async prepareDb(dbPath) {
      seedSeconds = (await runChild<{ seconds: number }>({ kind: 'seed', dbPath, ...plan }, plan.deadlineMs + 30_000)).seconds
      dbMb = statSync(dbPath).size / 2 ** 20
      ctx.log(`${label}: seeded in ${round(seedSeconds)} s (${round(dbMb)} MiB)`)
    },
  })
  const client = createClient(docket.url, 1)
  try {
    const samples: number[] = []
    let wrongPick = 0
    const deadline = performance.now() + RUN_DEADLINE_MS
    for (let i = 0; i < warmup + claims && performance.now() < deadline; i++) {
      const t0 = performance.now()
      const claim = await client.call('POST', '/leases/claim', { agent_id: 'agent-0', agent_role: SCALE_ROLE }, [200])
      const ms = performance.now() - t0
      if (i >= warmup) samples.push(ms)
      // A blocked task (priority 10) must never be handed out while its upstream is open.
      if (claim.body.task.priority !== 0) wrongPick += 1
      await client.call('POST', `/runs/${encodeURIComponent(claim.body.run.id)}/transition`, { trigger: 'complete' }, [200],
        { authorization: `Bearer ${claim.body.lease_token}` })
    }
    const m = { claim: summarize(samples), peakRssMb: docket.peakRssMb(), seedSeconds, dbMb, wrongPick }
    ctx.log(`${label}: claim p50 ${round(m.claim.p50)} ms, p99 ${round(m.claim.p99)} ms over ${m.claim.count} claims, peak RSS ${round(m.peakRssMb)} MiB`)
    return m
  } finally {
    await client.close()
    await docket.stop()
  }
}

const workload: Workload = {
  name: 'scale',
  description: 'claim latency with 1,000 vs 1,000,000 queued tasks, and behind 10,000 blocked higher-priority tasks',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const small = await measure(ctx, `${size.small} queued`, { queued: size.small, deadlineMs: SEED_DEADLINE_MS }, size.warmup, size.claims)
    const big = await measure(ctx, `${size.big} queued`, { queued: size.big, deadlineMs: SEED_DEADLINE_MS }, size.warmup, size.claims)
    const blocked = await measure(ctx, `${size.small} queued + ${size.blocked} blocked`,
      { queued: size.small, blocked: size.blocked, deadlineMs: SEED_DEADLINE_MS }, size.warmup, size.claims)
    const k = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`)
    return {
      metrics: {
        [`ratio_p50_${k(size.big)}_to_${k(size.small)}`]: round(big.claim.p50 / small.claim.p50),
        [`ratio_p50_blocked_to_${k(size.small)}`]: round(blocked.claim.p50 / small.claim.p50),
        [`q${k(size.small)}_claim_p50_ms`]: round(small.claim.p50),
        [`q${k(size.small)}_claim_p99_ms`]: round(small.claim.p99),
        [`q${k(size.big)}_claim_p50_ms`]: round(big.claim.p50),
        [`q${k(size.big)}_claim_p99_ms`]: round(big.claim.p99),
        blocked_claim_p50_ms: round(blocked.claim.p50),
        blocked_claim_p99_ms: round(blocked.claim.p99),
        blocked_tasks_handed_out: blocked.wrongPick,
        [`q${k(size.small)}_peak_rss_mb`]: round(small.peakRssMb),
        [`q${k(size.big)}_peak_rss_mb`]: round(big.peakRssMb),
        blocked_peak_rss_mb: round(blocked.peakRssMb),
        [`q${k(size.big)}_seed_s`]: round(big.seedSeconds),
        [`q${k(size.big)}_db_mb`]: round(big.dbMb),
      },
      notes: [
        `Queues are written straight into the database file with Docket's own task store before Docket starts (${round(big.seedSeconds)} s for ${size.big.toLocaleString('en-US')}); bulk HTTP would take longer and measure enqueue, not claims.`,
        `One agent, one request at a time: ${size.warmup} unmeasured cycles, then ${size.claims} measured claim → transition cycles per queue.`,
      ],
    }
  },
}

export default workload
