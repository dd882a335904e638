import type { BenchContext } from './types.ts'
import { createClient, type Client } from './client.ts'
import { processCpuMs } from './docket.ts'
import { runAgents, seedPipeline } from './agents.ts'
import { round, summarize } from './stats.ts'

export type CycleMeasure = {
  agents: number
  tasks: number
  cycles: number
  cyclesPerS: number
  claim: ReturnType<typeof summarize>
  transition: ReturnType<typeof summarize>
  duplicates: number
  timedOut: boolean
  peakRssMb: number
  /** Server CPU per cycle (two requests), and the load generator's, in µs. */
  serverCpuUsPerCycle: number
  clientCpuUsPerCycle: number
}

/**
 * A fresh Docket (or `nodes` of them on one PostgreSQL database, agents spread over them): a warm-up
 * pipeline drained first (JIT, page cache, connections), then `tasks` queued tasks drained by `agents`
 * concurrent agents, measured.
 */
export async function measureCycles(ctx: BenchContext, opts: { agents: number; tasks: number; warmup: number; deadlineMs: number; extraArgs?: string[]; nodes?: number }): Promise<CycleMeasure> {
  const nodes = opts.nodes ?? 1
  const label = `${opts.agents} agents${nodes > 1 ? ` on ${nodes} nodes` : ''}${opts.extraArgs?.length ? ` ${opts.extraArgs.join(' ')}` : ''}`
  const first = await ctx.startDocket(opts.extraArgs ?? [], { label })
  const dockets = [first]
  const clients: Client[] = []
  try {
    for (let i = 1; i < nodes; i++) dockets.push(await ctx.startDocket(opts.extraArgs ?? [], { label, database: first.dbPath }))
    for (const d of dockets) clients.push(createClient(d.url, Math.ceil(opts.agents / nodes)))
    const client = clients[0]
    const serverCpu = () => dockets.reduce((ms, d) => ms + processCpuMs(d.pid), 0)
    const warm = await seedPipeline(client, 'warmup', opts.warmup)
    await runAgents(clients, { role: warm.role, agents: opts.agents, deadlineMs: opts.deadlineMs, maxCycles: opts.warmup })
    const main = await seedPipeline(client, 'main', opts.tasks)
    const serverCpu0 = serverCpu()
    const clientCpu0 = process.cpuUsage()
    const run = await runAgents(clients, { role: main.role, agents: opts.agents, deadlineMs: opts.deadlineMs, maxCycles: opts.tasks })
    const serverCpuMs = serverCpu() - serverCpu0
    const clientCpu = process.cpuUsage(clientCpu0)
    const result: CycleMeasure = {
      agents: opts.agents,
      tasks: opts.tasks,
      cycles: run.cycles,
      cyclesPerS: run.cycles / run.seconds,
      claim: summarize(run.claimMs),
      transition: summarize(run.transitionMs),
      duplicates: run.duplicates,
      timedOut: run.timedOut,
      peakRssMb: Math.max(...dockets.map((d) => d.peakRssMb())),
      serverCpuUsPerCycle: (serverCpuMs * 1000) / run.cycles,
      clientCpuUsPerCycle: (clientCpu.user + clientCpu.system) / run.cycles,
    }
    ctx.log(`${label}: ${round(result.cyclesPerS)} cycles/s, claim p50 ${round(result.claim.p50)} ms p99 ${round(result.claim.p99)} ms, ` +
      `${result.duplicates} duplicates, server ${round(result.serverCpuUsPerCycle)} µs CPU/cycle, peak RSS ${round(result.peakRssMb)} MiB`)
    return result
  } finally {
    for (const c of clients) await c.close()
    for (const d of dockets) await d.stop()
  }
}

/** Flat metrics for one measurement, prefixed by its configuration (a8_, a32_, …). */
export function cycleMetrics(prefix: string, m: CycleMeasure): Record<string, number | string> {
  return {
    [`${prefix}cycles_per_s`]: round(m.cyclesPerS),
    [`${prefix}claim_p50_ms`]: round(m.claim.p50),
    [`${prefix}claim_p99_ms`]: round(m.claim.p99),
    [`${prefix}transition_p50_ms`]: round(m.transition.p50),
    [`${prefix}transition_p99_ms`]: round(m.transition.p99),
    [`${prefix}duplicates`]: m.duplicates,
    [`${prefix}server_cpu_us_per_cycle`]: round(m.serverCpuUsPerCycle),
    [`${prefix}peak_rss_mb`]: round(m.peakRssMb),
  }
}
