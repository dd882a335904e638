// What GET /tasks?status= filters on: a task's status, derived from its row (nothing stores it, so no change
// path has to keep it current). The first rule that holds wins:
//   canceled       dead_letter_reason = 'canceled'
//   dead_lettered  dead_letter_reason = 'max_attempts_exceeded'
//   leased         active_run_id IS NOT NULL (a run holds the lease)
//   done           its stage is terminal in its pipeline
//   blocked        open_dependencies > 0 (an upstream task is not in a terminal stage yet), or its stage has
//                  no agent_role (no agent claims from it: it waits for someone to move it on)
//   delayed        next_eligible_at_ms > now (not_before_ms, or a retry delay, still ahead)
//   claimable      everything else: a claim of its stage's role may take it now (a paused pipeline's tasks
//                  count as claimable: pausing holds claims back, not the task)
// Both drivers write these rules in SQL (src/store/*/task-pages.ts); taskStatusOf is the rule itself, which
// the tests compare the filtered lists with.
import type { TaskRow } from '../store/types.ts'
import type { CompiledPipeline, StageInfo } from './pipeline.ts'

export const TASK_STATUS = ['claimable', 'delayed', 'blocked', 'leased', 'dead_lettered', 'canceled', 'done'] as const
export type TaskStatus = (typeof TASK_STATUS)[number]

export function isTaskStatus(text: string): text is TaskStatus {
  return (TASK_STATUS as readonly string[]).includes(text)
}

type StatusColumns = Pick<TaskRow, 'dead_letter_reason' | 'active_run_id' | 'open_dependencies' | 'next_eligible_at_ms'>

/** The status of `task`, whose stage is `stage` of its pipeline. */
export function taskStatusOf(task: StatusColumns, stage: Pick<StageInfo, 'isTerminal' | 'agentRole'>, nowMs: number): TaskStatus {
  if (task.dead_letter_reason === 'canceled') return 'canceled'
  if (task.dead_letter_reason !== null) return 'dead_lettered'
  if (task.active_run_id !== null) return 'leased'
  if (stage.isTerminal) return 'done'
  if (task.open_dependencies > 0 || stage.agentRole === null) return 'blocked'
  if (task.next_eligible_at_ms > nowMs) return 'delayed'
  return 'claimable'
}

/** A (pipeline, stage) pair as the status SQL compares it: pipeline ids are generated and hold no ':'. */
export function stageKey(pipelineId: string, stage: string): string {
  return `${pipelineId}:${stage}`
}

/** What the status SQL needs of the pipelines: their terminal stages, and the stages an agent role claims from. */
export type StageKeys = { terminal: string[]; claimable: string[] }

export function stageKeysOf(pipelines: ReadonlyArray<readonly [string, CompiledPipeline]>): StageKeys {
  const keys: StageKeys = { terminal: [], claimable: [] }
  for (const [id, p] of pipelines) {
    for (const stage of p.stages.values()) {
      if (stage.isTerminal) keys.terminal.push(stageKey(id, stage.name))
      else if (stage.agentRole !== null) keys.claimable.push(stageKey(id, stage.name))
    }
  }
  return keys
}
