// PATCH /tasks/{id}: what an edit changes, decided once for both drivers.
import { AppError, validationError } from './errors.ts'
import { mergePatch } from './merge-patch.ts'
import type { CompiledPipeline } from './pipeline.ts'

/** A validated PATCH /tasks/{id} body: absent fields stay as they are. */
export type TaskPatch = {
  title?: string
  description?: string
  priority?: number
  metadata?: unknown
  metadata_merge?: unknown
  retry_policy?: { max_attempts?: number | null; retry_delay_ms?: number | null; dead_letter_stage?: string | null } | null
  not_before_ms?: number | null
  assigned_agent_id?: string | null
  expected_task_version?: number | null
}

/** What an edit reads of the task (a TaskRow). */
type TaskState = {
  title: string
  description: string
  priority: number
  metadata_json: string
  task_version: number
  max_attempts: number | null
  retry_delay_ms: number
  dead_letter_stage: string | null
  next_eligible_at_ms: number
}

/** The columns an edit writes (the rest of the row stays), and whether the assignee changes. */
export type TaskEdit = {
  title: string
  description: string
  priority: number
  metadata_json: string
  max_attempts: number | null
  retry_delay_ms: number
  dead_letter_stage: string | null
  next_eligible_at_ms: number
  /** undefined: the assignee stays; null: unassigned; else assigned to this agent. */
  assignee: string | null | undefined
}

/**
 * Absent fields stay as they are. retry_policy's fields replace one by one (null: the default, as on
 * create); retry_policy null resets all three. not_before_ms null makes the task eligible now.
 */
export function editOf(task: TaskState, patch: TaskPatch, pipeline: CompiledPipeline): TaskEdit {
  if (patch.expected_task_version != null && patch.expected_task_version !== task.task_version) {
    throw new AppError('task_version_mismatch', 409, 'Current task version does not match expected_task_version')
  }
  const policy = patch.retry_policy
  const has = (key: string) => policy != null && key in policy
  const deadLetterStage = policy === null ? null : has('dead_letter_stage') ? policy!.dead_letter_stage ?? null : task.dead_letter_stage
  if (deadLetterStage !== null && deadLetterStage !== task.dead_letter_stage && !pipeline.stages.has(deadLetterStage)) {
    throw validationError([{ path: 'retry_policy.dead_letter_stage', message: `names no stage of the pipeline: ${deadLetterStage}` }])
  }
  let metadataJson = task.metadata_json
  if (patch.metadata !== undefined) metadataJson = JSON.stringify(patch.metadata ?? {})
  else if (patch.metadata_merge !== undefined) metadataJson = JSON.stringify(mergePatch(JSON.parse(task.metadata_json), patch.metadata_merge) ?? {})
  return {
    title: patch.title ?? task.title,
    description: patch.description ?? task.description,
    priority: patch.priority ?? task.priority,
    metadata_json: metadataJson,
    max_attempts: policy === null ? null : has('max_attempts') ? policy!.max_attempts ?? null : task.max_attempts,
    retry_delay_ms: policy === null ? 0 : has('retry_delay_ms') ? policy!.retry_delay_ms ?? 0 : task.retry_delay_ms,
    dead_letter_stage: deadLetterStage,
    next_eligible_at_ms: patch.not_before_ms === undefined ? task.next_eligible_at_ms : patch.not_before_ms ?? 0,
    assignee: patch.assigned_agent_id === undefined ? undefined : patch.assigned_agent_id,
  }
}

/** The `edited` task event: the fields as sent (the version check is not a change). */
export function editEventData(patch: TaskPatch, task: TaskState): unknown {
  const { expected_task_version: _, ...fields } = patch
  return { fields, from_task_version: task.task_version, to_task_version: task.task_version + 1 }
}
