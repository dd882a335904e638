// GET /tasks's query: the filters of a task list or export (TaskFilter), each checked here, at the edge.
import { AppError, validationError, type Detail } from '../domain/errors.ts'
import { searchTerms } from '../domain/search.ts'
import { isTaskStatus, TASK_STATUS } from '../domain/task-status.ts'
import { queryInt } from './validate.ts'
import type { TaskFilter } from '../store/types.ts'

/** A search text longer than this is refused (the store search has the same words, not the same limit). */
const MAX_Q_LENGTH = 4096
const MAX_MS = 8_640_000_000_000_000

/** The filter of a GET /tasks query, without its cursor and limit; every bad parameter is one detail of a 400. */
export function taskFilterOf(query: Record<string, string>, nowMs: number): Omit<TaskFilter, 'after' | 'limit'> {
  const details: Detail[] = []
  const { q, status, order } = query
  if (q !== undefined) {
    if (q.length > MAX_Q_LENGTH) details.push({ path: 'query.q', message: `must be at most ${MAX_Q_LENGTH} characters` })
    else if (searchTerms(q) === null) details.push({ path: 'query.q', message: 'must contain at least one non-whitespace term' })
  }
  if (status !== undefined && !isTaskStatus(status)) {
    details.push({ path: 'query.status', message: `must be one of ${TASK_STATUS.join(', ')}` })
  }
  if (order !== undefined && order !== 'asc' && order !== 'desc') details.push({ path: 'query.order', message: 'must be asc or desc' })
  const include = query.include_total
  if (include !== undefined && include !== 'true' && include !== 'false') {
    details.push({ path: 'query.include_total', message: 'must be true or false' })
  }
  const ms = (name: string) => {
    try {
      return query[name] === undefined ? undefined : queryInt(query, name, 0, 0, MAX_MS)
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      details.push(...(err.details ?? []))
      return undefined
    }
  }
  const createdAfterMs = ms('created_after_ms')
  const createdBeforeMs = ms('created_before_ms')
  if (details.length > 0) throw validationError(details)
  return {
    stage: query.stage,
    pipelineId: query.pipeline_id,
    q,
    status: status as TaskFilter['status'],
    assignee: query.assignee,
    createdAfterMs,
    createdBeforeMs,
    order: order as TaskFilter['order'],
    nowMs,
  }
}
