// How many tasks wait at each human gate (/ops/queue): gates are few, and each count reads only the tasks
// at that stage.
import type { App } from '../app.ts'

export type GateQueue = { pipeline_id: string; pipeline_name: string; stage: string; waiting_count: number }

export async function gateQueues(app: App): Promise<GateQueue[]> {
  const { reads } = app.driver
  const queues: GateQueue[] = []
  for (const p of await reads.pipelines()) {
    const compiled = await reads.compiledPipeline(p.id)
    for (const stage of compiled?.stages.values() ?? []) {
      if (!stage.isGate) continue
      queues.push({ pipeline_id: p.id, pipeline_name: p.name, stage: stage.name, waiting_count: await reads.waitingAt(p.id, stage.name) })
    }
  }
  return queues
}
