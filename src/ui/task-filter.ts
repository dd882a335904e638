// The task list's filter, as the form sends it and as the store reads it.
import { parseTimeCursor } from '../http/pagination.ts'
import type { TaskFilter } from '../store/types.ts'
import { taskFilterOf as queryFilterOf } from '../http/task-query.ts'

/** Every field of the form, as given (empty fields dropped). */
export const FILTER_FIELDS = ['pipeline', 'stage', 'status', 'assignee', 'q', 'created_after', 'created_before', 'order'] as const
export type FilterField = (typeof FILTER_FIELDS)[number]
export type FilterForm = Partial<Record<FilterField, string>>

export function filterForm(params: URLSearchParams): FilterForm {
  const form: FilterForm = {}
  for (const f of FILTER_FIELDS) {
    const value = params.get(f)?.trim()
    if (value) form[f] = value
  }
  return form
}

/**
 * The store filter of a form, checked as GET /tasks checks its query (a bad field is a 400 naming it). The
 * form's times are datetime-local values, read as UTC (the console shows UTC); its order is oldest or newest.
 */
export function taskFilterOf(form: FilterForm, cursor: string | undefined, limit: number, nowMs: number): TaskFilter {
  const query: Record<string, string> = {}
  if (form.pipeline !== undefined) query.pipeline_id = form.pipeline
  if (form.stage !== undefined) query.stage = form.stage
  if (form.status !== undefined) query.status = form.status
  if (form.assignee !== undefined) query.assignee = form.assignee
  if (form.q !== undefined) query.q = form.q
  if (form.created_after !== undefined) query.created_after_ms = utcMs(form.created_after)
  if (form.created_before !== undefined) query.created_before_ms = utcMs(form.created_before)
  if (form.order === 'newest') query.order = 'desc'
  return { ...queryFilterOf(query, nowMs), after: parseTimeCursor(cursor), limit }
}

/** A datetime-local value (no zone) as UTC epoch ms, as text; unparseable text is passed on for the 400. */
function utcMs(local: string): string {
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(local) ? local : `${local}Z`)
  return Number.isNaN(ms) ? local : String(ms)
}

export function filterQuery(form: FilterForm, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ ...(form as Record<string, string>), ...extra }).toString()
}
