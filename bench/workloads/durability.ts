import type { Workload } from '../lib/types.ts'
import { cycleMetrics, measureCycles } from '../lib/cycle.ts'
import { inProcessCycles } from '../lib/inprocess.ts'
import { round } from '../lib/stats.ts'

// fsync per commit: far fewer cycles per second, so fewer tasks keep the run short.
const FULL = { tasks: 6_000, warmup: 500, deadlineMs: 60_000 }
const QUICK = { tasks: 1_000, warmup: 200, deadlineMs: 20_000 }

const workload: Workload = {
  name: 'durability',
  description: 'the cycle workload (8 agents) with --durability full (synchronous=FULL: fsync at every commit)',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const baseline = inProcessCycles({ tasks: size.tasks, warmup: size.warmup, durability: 'full', deadlineMs: size.deadlineMs })
    ctx.log(`in-process baseline (synchronous=FULL): ${round(baseline.cyclesPerS)} cycles/s`)
    const m = await measureCycles(ctx, { agents: 8, tasks: size.tasks, warmup: size.warmup, deadlineMs: size.deadlineMs, extraArgs: ['--durability', 'full'] })
    const notes = ['Both sides run synchronous=FULL; the in-process loop pays one fsync per claim and per completion.']
    if (m.timedOut) notes.push(`stopped by the deadline after ${m.cycles} of ${m.tasks} cycles.`)
    return {
      metrics: {
        ratio_http_to_inprocess: round(m.cyclesPerS / baseline.cyclesPerS),
        inprocess_cycles_per_s: round(baseline.cyclesPerS),
        ...cycleMetrics('a8_', m),
      },
      notes,
    }
  },
}

export default workload
