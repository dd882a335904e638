// The task gauges, filled at scrape time from the driver's tally (counters kept by triggers and small
// indexes): docket_tasks{pipeline,stage,state} and docket_oldest_claimable_age_seconds{pipeline,stage}.
import type { Reads } from '../store/driver.ts'
import type { PlaceCount, TaskTally } from '../store/types.ts'
import type { Instruments } from './instruments.ts'

export const TASK_STATES = ['claimable', 'delayed', 'leased', 'blocked', 'dead_lettered', 'canceled', 'done'] as const
export type TaskState = (typeof TASK_STATES)[number]

export type TaskGaugeRow = { pipeline: string; stage: string; state: TaskState; count: number }

const placeKey = (pipelineId: string, stage: string) => `${pipelineId}\u0000${stage}`

function byPlace(rows: PlaceCount[]): Map<string, number> {
  return new Map(rows.map((r) => [placeKey(r.pipeline_id, r.stage), r.count]))
}

/**
 * Splits the trigger-kept "open" count of each place: leased and delayed are counted apart, a terminal
 * stage's open tasks are done, and what remains is claimable (assignments and per-stage limits aside, as in
 * /ops/queue).
 */
export function taskStates(tally: TaskTally, isTerminal: (pipelineId: string, stage: string) => boolean): TaskGaugeRow[] {
  const leased = byPlace(tally.leased)
  const delayed = byPlace(tally.delayed)
  const rows: TaskGaugeRow[] = []
  for (const c of tally.counts) {
    const place = { pipeline: c.pipeline, stage: c.stage }
    if (c.state !== 'open') {
      rows.push({ ...place, state: c.state, count: c.count })
    } else if (isTerminal(c.pipeline_id, c.stage)) {
      rows.push({ ...place, state: 'done', count: c.count })
    } else {
      const key = placeKey(c.pipeline_id, c.stage)
      const held = leased.get(key) ?? 0
      const later = delayed.get(key) ?? 0
      rows.push({ ...place, state: 'leased', count: held }, { ...place, state: 'delayed', count: later })
      rows.push({ ...place, state: 'claimable', count: Math.max(0, c.count - held - later) })
    }
  }
  return rows
}

/** Reads the tally and sets both task gauges; series of places that emptied since the last scrape go. */
export async function collectTaskGauges(reads: Reads, instruments: Instruments, nowMs: number): Promise<void> {
  const [tally, pipelines] = await Promise.all([reads.taskTally(nowMs), reads.pipelines()])
  const names = new Map(pipelines.map((p) => [p.id, p.name]))
  const compiled = new Map(await Promise.all(pipelines.map(async (p) => [p.id, await reads.compiledPipeline(p.id)] as const)))
  const isTerminal = (pipelineId: string, stage: string) => compiled.get(pipelineId)?.stages.get(stage)?.isTerminal ?? false
  instruments.tasks.reset()
  for (const r of taskStates(tally, isTerminal)) instruments.tasks.set({ pipeline: r.pipeline, stage: r.stage, state: r.state }, r.count)
  instruments.oldestClaimableAge.reset()
  for (const o of tally.oldest) {
    const pipeline = names.get(o.pipeline_id)
    if (pipeline === undefined) continue
    const ageMs = o.created_at_ms === null ? 0 : Math.max(0, nowMs - o.created_at_ms)
    instruments.oldestClaimableAge.set({ pipeline, stage: o.stage }, ageMs / 1000)
  }
}
