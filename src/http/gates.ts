// How many tasks wait at each human gate (/ops/queue): gates are few, and each count reads only the tasks
// at that stage.
import type { App } from '../app.ts'
import type { PipelineRow } from '../store/types.ts'

export type GateQueue = { pipeline_id: string; pipeline_name: string; stage: string; waiting_count: number }

/** `pipelines`: the caller's list when it has read one already. */
export async function gateQueues(app: App, pipelines?: PipelineRow[]): Promise<GateQueue[]> {
  const { reads } = app.driver
  const gates: Array<{ p: PipelineRow; stage: string }> = []
  for (const p of pipelines ?? await reads.pipelines()) {
    for (const stage of (await reads.compiledPipeline(p.id))?.stages.values() ?? []) if (stage.isGate) gates.push({ p, stage: stage.name })
  }
  return Promise.all(gates.map(async ({ p, stage }) =>
    ({ pipeline_id: p.id, pipeline_name: p.name, stage, waiting_count: await reads.waitingAt(p.id, stage) })))
}
