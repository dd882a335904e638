// JSON text of stored rows, in nullTickets' key order. Stored JSON columns are spliced in as they are
// (they were produced by JSON.stringify), so nothing is parsed again on the way out.
import type { AssignmentRow, PipelineRow, RunRow, TaskRow } from '../store/types.ts'

const s = JSON.stringify

export function pipelineJson(p: PipelineRow): string {
  return `{"id":${s(p.id)},"name":${s(p.name)},"definition":${p.definition_json},"created_at_ms":${p.created_at_ms},"paused":${p.paused === 1}}`
}

export function taskJson(t: TaskRow): string {
  return `{"id":${s(t.id)},"pipeline_id":${s(t.pipeline_id)},"stage":${s(t.stage)},"title":${s(t.title)},` +
    `"description":${s(t.description)},"priority":${t.priority},"metadata":${t.metadata_json},` +
    `"task_version":${t.task_version},"next_eligible_at_ms":${t.next_eligible_at_ms},"retry_delay_ms":${t.retry_delay_ms},` +
    `"max_attempts":${t.max_attempts},"dead_letter_stage":${s(t.dead_letter_stage)},"dead_letter_reason":${s(t.dead_letter_reason)},` +
    `"created_at_ms":${t.created_at_ms},"updated_at_ms":${t.updated_at_ms}}`
}

export function runJson(r: RunRow): string {
  return `{"id":${s(r.id)},"task_id":${s(r.task_id)},"attempt":${r.attempt},"status":${s(r.status)},` +
    `"agent_id":${s(r.agent_id)},"agent_role":${s(r.agent_role)},"started_at_ms":${r.started_at_ms},"ended_at_ms":${r.ended_at_ms}}`
}

/** GET /runs/{id}: the run plus what it reported, and how many trace spans name it. */
export function runDetailJson(r: RunRow, spanCount: number): string {
  return `${runJson(r).slice(0, -1)},"usage":${r.usage_json},"error":${s(r.error_text)},"span_count":${spanCount}}`
}

export function assignmentJson(a: AssignmentRow, withTaskId: boolean): string {
  return `{${withTaskId ? `"task_id":${s(a.task_id)},` : ''}"agent_id":${s(a.agent_id)},"assigned_by":${s(a.assigned_by)},` +
    `"active":${a.active === 1},"created_at_ms":${a.created_at_ms},"updated_at_ms":${a.updated_at_ms}}`
}
