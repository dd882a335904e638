// A task's status as the console shows and filters it, derived from its row and its pipeline.
import type { CompiledPipeline } from '../domain/pipeline.ts'
import type { TaskRow } from '../store/types.ts'

export const TASK_STATUS = ['claimable', 'delayed', 'blocked', 'leased', 'dead_lettered', 'canceled', 'done'] as const
export type TaskStatus = (typeof TASK_STATUS)[number]

export function taskStatus(t: TaskRow, pipeline: CompiledPipeline | undefined, nowMs: number): TaskStatus {
  if (t.dead_letter_reason === 'canceled') return 'canceled'
  if (t.dead_letter_reason === 'max_attempts_exceeded') return 'dead_lettered'
  if (pipeline?.stages.get(t.stage)?.isTerminal === true) return 'done'
  if (t.active_run_id !== null) return 'leased'
  if (t.open_dependencies > 0) return 'blocked'
  return t.next_eligible_at_ms > nowMs ? 'delayed' : 'claimable'
}
