// What GET /tasks?status= filters on: a task's status, derived from its row (nothing stores it, so no change
// path has to keep it current). The first rule that holds wins:
//   canceled       dead_letter_reason = 'canceled'
//   dead_lettered  dead_letter_reason = 'max_attempts_exceeded'
//   leased         active_run_id IS NOT NULL (a run holds the lease)
//   done           its stage is terminal in its pipeline
//   blocked        open_dependencies > 0 (an upstream task is not in a terminal stage yet)
//   delayed        next_eligible_at_ms > now (not_before_ms, or a retry delay, still ahead)
//   claimable      everything else: a claim of its stage's role may take it now (a paused pipeline's tasks
//                  count as claimable: pausing holds claims back, not the task)
// Both drivers write these rules in SQL (src/store/*/task-pages.ts); taskStatusOf is the rule itself, which
// the tests compare the filtered lists with.
import type { TaskRow } from '../store/types.ts'

export const TASK_STATUS = ['claimable', 'delayed', 'blocked', 'leased', 'dead_lettered', 'canceled', 'done'] as const
export type TaskStatus = (typeof TASK_STATUS)[number]

export function isTaskStatus(text: string): text is TaskStatus {
  return (TASK_STATUS as readonly string[]).includes(text)
}

type StatusColumns = Pick<TaskRow, 'dead_letter_reason' | 'active_run_id' | 'open_dependencies' | 'next_eligible_at_ms'>

export function taskStatusOf(task: StatusColumns, isTerminal: boolean, nowMs: number): TaskStatus {
  if (task.dead_letter_reason === 'canceled') return 'canceled'
  if (task.dead_letter_reason !== null) return 'dead_lettered'
  if (task.active_run_id !== null) return 'leased'
  if (isTerminal) return 'done'
  if (task.open_dependencies > 0) return 'blocked'
  if (task.next_eligible_at_ms > nowMs) return 'delayed'
  return 'claimable'
}

/** A (pipeline, stage) pair as the status SQL compares it: pipeline ids are generated and hold no ':'. */
export function stageKey(pipelineId: string, stage: string): string {
  return `${pipelineId}:${stage}`
}
