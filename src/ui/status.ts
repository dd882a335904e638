// A task's status as the console shows it: the rule GET /tasks?status= filters by (domain/task-status.ts).
import { taskStatusOf, type TaskStatus } from '../domain/task-status.ts'
import type { CompiledPipeline } from '../domain/pipeline.ts'
import type { TaskRow } from '../store/types.ts'

export { TASK_STATUS } from '../domain/task-status.ts'

/** A task's status; a stage its pipeline lacks (never, but read defensively) counts as a role-less one. */
export function taskStatus(t: TaskRow, pipeline: CompiledPipeline | undefined, nowMs: number): TaskStatus {
  const stage = pipeline?.stages.get(t.stage) ?? { isTerminal: false, agentRole: null }
  return taskStatusOf(t, stage, nowMs)
}
