// The task list's filter, as the form sends it and as the store reads it.
import { parseTimeCursor } from '../http/pagination.ts'
import type { TaskFilter } from '../store/types.ts'

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
 * The store filter of a form. Only pipeline and stage are wired today; status, assignee, q, the creation
 * times and order wait for TaskFilter's fields of issue 17 (the form already sends them).
 */
export function taskFilterOf(form: FilterForm, cursor: string | undefined, limit: number): TaskFilter {
  return { pipelineId: form.pipeline, stage: form.stage, after: parseTimeCursor(cursor), limit }
}

export function filterQuery(form: FilterForm, extra: Record<string, string> = {}): string {
  return new URLSearchParams({ ...(form as Record<string, string>), ...extra }).toString()
}
