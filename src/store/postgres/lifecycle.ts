// Edits, deletes, signals at human gates and bulk requeues and cancels, with the rules of SQLite's
// lifecycle-changes.ts; and the reads their routes need. Each change locks the task row first (as every
// change of a task does: outcome-sql.ts), and writes a task event for what it did. (PostgreSQL driver)
import type pg from 'pg'
import type { Tx } from './tx.ts'
import type { PgContext, TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'
import { statement, type Statement } from './sql.ts'
import { newOutcome, writeOutcome } from './outcome-sql.ts'
import { requireTask, shiftOf } from './outcomes.ts'
import { assign, unassign } from './assignments.ts'
import { AppError } from '../../domain/errors.ts'
import { bulkItemError } from '../bulk-item.ts'
import { editEventData, editOf } from '../../domain/task-patch.ts'
import { signalTransition } from '../../domain/signal.ts'
import { isTerminalStage } from '../../domain/pipeline.ts'
import type { BulkFilter, BulkItem, TaskEventRow, TaskRow } from '../types.ts'

const edit = statement<TaskRow>('lifecycle_edit', `
  WITH logged AS (INSERT INTO task_events (task_id, ts_ms, kind, data_json) VALUES ($1, $10, 'edited', $11))
  UPDATE tasks SET title = $2, description = $3, priority = $4, metadata_json = $5, max_attempts = $6,
    retry_delay_ms = $7, dead_letter_stage = $8, next_eligible_at_ms = $9, task_version = task_version + 1,
    updated_at_ms = $10
  WHERE id = $1 RETURNING *`)
const logEvent = statement('lifecycle_log', 'INSERT INTO task_events (task_id, ts_ms, kind, data_json) VALUES ($1, $2, $3, $4)')
// A delete, children first. Dependents of a task that was not resolved ($2) stop waiting on it. Foreign
// keys are checked at the end of each statement, when every part of it has run.
const deleteChildren = statement('lifecycle_delete_children', `
  WITH run_ids AS (SELECT id FROM runs WHERE task_id = $1),
  run_events AS (DELETE FROM events WHERE run_id IN (SELECT id FROM run_ids)),
  artifacts_gone AS (DELETE FROM artifacts WHERE task_id = $1 OR run_id IN (SELECT id FROM run_ids)),
  task_events_gone AS (DELETE FROM task_events WHERE task_id = $1),
  assignments_gone AS (DELETE FROM task_assignments WHERE task_id = $1),
  dependents AS (
    UPDATE tasks SET open_dependencies = open_dependencies - 1
    WHERE $2::boolean AND id IN (SELECT task_id FROM task_dependencies WHERE depends_on_task_id = $1)
  )
  DELETE FROM task_dependencies WHERE task_id = $1 OR depends_on_task_id = $1`)
const deleteRow = statement('lifecycle_delete_task', `
  WITH runs_gone AS (DELETE FROM runs WHERE task_id = $1)
  DELETE FROM tasks WHERE id = $1`)

// Bulk batches, set-based: one statement per batch locks its tasks (in id order, as every change locks a
// task before its run) and writes what the single requeue and cancel write for each (outcomes.ts), with a
// task event; per-item routes would cost three round trips an item. Requeue into another stage goes item
// by item (its dependents' counts may shift).
const requeueBatch = statement<{ id: string; active_run_id: string | null }>('lifecycle_requeue_batch', `
  WITH locked AS (SELECT id, stage, active_run_id FROM tasks WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE),
  todo AS (SELECT id, stage, '{"from_stage":' || to_json(stage)::text || ',"to_stage":' || to_json(stage)::text AS moved FROM locked WHERE active_run_id IS NULL),
  changed AS (
    UPDATE tasks SET dead_letter_reason = NULL, next_eligible_at_ms = $2, failed_attempts = 0, task_version = tasks.task_version + 1, updated_at_ms = $2
    FROM todo WHERE tasks.id = todo.id
  ),
  run_events AS (
    INSERT INTO events (run_id, ts_ms, kind, data_json)
    SELECT r.id, $2, 'requeued', todo.moved || '}' FROM todo
    CROSS JOIN LATERAL (SELECT id FROM runs WHERE task_id = todo.id ORDER BY attempt DESC LIMIT 1) r
  ),
  task_events AS (
    INSERT INTO task_events (task_id, ts_ms, kind, data_json) SELECT id, $2, 'requeued', '{"bulk":true,' || substr(moved, 2) || '}' FROM todo
  )
  SELECT id, active_run_id FROM locked`)
const cancelBatch = statement<{ id: string; was_canceled: boolean }>('lifecycle_cancel_batch', `
  WITH locked AS (SELECT id, active_run_id, dead_letter_reason FROM tasks WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE),
  todo AS (
    SELECT l.id, coalesce(l.active_run_id, (SELECT r.id FROM runs r WHERE r.task_id = l.id ORDER BY r.attempt DESC LIMIT 1)) AS run_id, l.active_run_id
    FROM locked l WHERE l.dead_letter_reason IS DISTINCT FROM 'canceled'
  ),
  ended AS (
    UPDATE runs SET status = 'canceled', ended_at_ms = $2, lease_expires_at_ms = NULL FROM todo WHERE runs.id = todo.active_run_id
  ),
  changed AS (
    UPDATE tasks SET dead_letter_reason = 'canceled', active_run_id = NULL, updated_at_ms = $2 FROM todo WHERE tasks.id = todo.id
  ),
  run_events AS (
    INSERT INTO events (run_id, ts_ms, kind, data_json) SELECT run_id, $2, 'canceled', $3 FROM todo WHERE run_id IS NOT NULL
  ),
  task_events AS (INSERT INTO task_events (task_id, ts_ms, kind, data_json) SELECT id, $2, 'canceled', $4 FROM todo)
  SELECT id, dead_letter_reason IS NOT DISTINCT FROM 'canceled' AS was_canceled FROM locked`)

const NOT_FOUND = { code: 'not_found', message: 'Task not found' }
const RUNNING = { code: 'conflict', message: 'Task has a running run; cancel it or let it finish first' }

/** Answers in the order of `ids`; an id the batch did not find is not_found. */
function inOrder<R extends { id: string }>(ids: readonly string[], rows: R[], itemOf: (row: R) => Omit<BulkItem, 'id'>): BulkItem[] {
  const byId = new Map(rows.map((r) => [r.id, r]))
  return ids.map((id) => {
    const row = byId.get(id)
    return row === undefined ? { id, ok: false, changed: false, error: NOT_FOUND } : { id, ...itemOf(row) }
  })
}

const byIds = statement<TaskRow>('lifecycle_by_ids', 'SELECT * FROM tasks WHERE id = ANY($1::text[])')
const eventsOf = statement<TaskEventRow>('lifecycle_events',
  'SELECT * FROM task_events WHERE task_id = $1 AND id > $2 ORDER BY id LIMIT $3')
const waiting = statement<{ n: number }>('lifecycle_waiting',
  'SELECT count(*)::int AS n FROM tasks WHERE stage = $2 AND pipeline_id = $1 AND dead_letter_reason IS NULL')

type Bound = Pick<TxChanges, 'cancelTask' | 'requeueTask'>

/** Each item on its own: an AppError answers that item (its checks come before any write of it). */
async function eachItem(ids: readonly string[], change: (id: string) => Promise<boolean>): Promise<BulkItem[]> {
  const items: BulkItem[] = []
  for (const id of ids) {
    try {
      items.push({ id, ok: true, changed: await change(id) })
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      items.push({ id, ok: false, changed: false, error: bulkItemError(err) })
    }
  }
  return items
}

export function lifecycleChanges(ctx: PgContext, runs: Bound): Pick<TxChanges, 'editTask' | 'deleteTask' | 'signalTask' | 'requeueTasks' | 'cancelTasks'> {
  const changes: Pick<TxChanges, 'editTask' | 'deleteTask' | 'signalTask' | 'requeueTasks' | 'cancelTasks'> = {
    async editTask(tx, taskId, patch, nowMs) {
      const task = await requireTask(tx, taskId)
      const e = editOf(task, patch, (await ctx.compiled(tx, task.pipeline_id))!)
      if (e.assignee === null && task.assignee !== null) await unassign(ctx, tx, task.id, task.assignee, nowMs)
      if (e.assignee != null && e.assignee !== task.assignee) await assign(ctx, tx, task.id, e.assignee, null, nowMs)
      const row = await edit.one(tx, [task.id, e.title, e.description, e.priority, e.metadata_json, e.max_attempts,
        e.retry_delay_ms, e.dead_letter_stage, e.next_eligible_at_ms, nowMs, JSON.stringify(editEventData(patch, task))])
      // A new priority or eligibility time may make it the next claim: waiters on every node re-check.
      ctx.wake(tx, e.next_eligible_at_ms > nowMs ? e.next_eligible_at_ms : undefined)
      return row!
    },

    async deleteTask(tx, taskId, force) {
      const task = await requireTask(tx, taskId)
      if (task.active_run_id !== null && !force) {
        throw new AppError('lease_held', 409, 'Task holds a live lease; delete with force=true to cancel its run first')
      }
      const isResolved = isTerminalStage((await ctx.compiled(tx, task.pipeline_id))!, task.stage)
      await deleteChildren.run(tx, [task.id, !isResolved])
      await deleteRow.run(tx, [task.id])
      ctx.wake(tx)
    },

    async signalTask(tx, taskId, req, nowMs) {
      const task = await requireTask(tx, taskId)
      const pipeline = (await ctx.compiled(tx, task.pipeline_id))!
      const t = signalTransition(task, pipeline, req.trigger, req.expectedStage)
      const o = newOutcome()
      o.tasks.push({ ...task, stage: t.to, task_version: task.task_version + 1, dead_letter_reason: null, next_eligible_at_ms: 0, active_run_id: null, updated_at_ms: nowMs })
      const shift = shiftOf(pipeline, task.stage, t.to)
      if (shift !== 0) o.shifts.set(task.id, shift)
      o.wakes.add('')
      const [row] = await writeOutcome(tx, nowMs, o)
      await logEvent.run(tx, [task.id, nowMs, 'signaled', JSON.stringify({ trigger: t.trigger, from: task.stage, to: t.to, data: req.data ?? null })])
      return { task: row, previous_stage: task.stage, new_stage: t.to, trigger: t.trigger }
    },

    async requeueTasks(tx, ids, stage, nowMs) {
      if (stage !== null) return requeueEach(tx, ids, stage, nowMs)
      const rows = await requeueBatch.all(tx, [ids, nowMs])
      ctx.wake(tx)
      return inOrder(ids, rows, (r) => r.active_run_id === null ? { ok: true, changed: true } : { ok: false, changed: false, error: RUNNING })
    },

    async cancelTasks(tx, ids, reason, nowMs) {
      const rows = await cancelBatch.all(tx, [ids, nowMs, JSON.stringify({ reason }), JSON.stringify({ bulk: true, reason })])
      ctx.wake(tx)
      return inOrder(ids, rows, (r) => ({ ok: true, changed: !r.was_canceled }))
    },
  }

  function requeueEach(tx: Tx, ids: readonly string[], stage: string, nowMs: number): Promise<BulkItem[]> {
    return eachItem(ids, async (id) => {
      const before = await requireTask(tx, id)
      const task = await runs.requeueTask(tx, id, stage, nowMs)
      await logEvent.run(tx, [id, nowMs, 'requeued', JSON.stringify({ bulk: true, from_stage: before.stage, to_stage: task.stage })])
      return true
    })
  }

  return changes
}

// Bulk filters: one named statement per combination of fields (see time-pages.ts for why not one generic plan).
const STATUS_SQL: Record<string, string> = {
  dead_lettered: "dead_letter_reason IS NOT NULL AND dead_letter_reason <> 'canceled'",
  canceled: "dead_letter_reason = 'canceled'",
  leased: 'dead_letter_reason IS NULL AND active_run_id IS NOT NULL',
  blocked: 'dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies > 0',
}
const matchStatements = new Map<string, Statement<{ id: string; created_at_ms: number }>>()

function matchTasks(pool: pg.Pool, f: BulkFilter, after: { createdAtMs: number; id: string } | null, limit: number) {
  const conds: string[] = []
  const values: unknown[] = [limit]
  const param = (value: unknown) => { values.push(value); return `$${values.length}` }
  if (f.pipeline_id !== undefined) conds.push(`pipeline_id = ${param(f.pipeline_id)}`)
  if (f.stage !== undefined) conds.push(`stage = ${param(f.stage)}`)
  if (f.status !== undefined) conds.push(STATUS_SQL[f.status])
  if (f.dead_letter_reason !== undefined) conds.push(`dead_letter_reason = ${param(f.dead_letter_reason)}`)
  if (f.created_before_ms !== undefined) conds.push(`created_at_ms < ${param(f.created_before_ms)}`)
  if (after !== null) conds.push(`(created_at_ms, id) > (${param(after.createdAtMs)}, ${param(after.id)})`)
  const where = conds.join(' AND ')
  let stmt = matchStatements.get(where)
  if (stmt === undefined) {
    stmt = statement(`lifecycle_match_${matchStatements.size}`, `SELECT id, created_at_ms FROM tasks WHERE ${where} ORDER BY created_at_ms, id LIMIT $1`)
    matchStatements.set(where, stmt)
  }
  return stmt.all(pool, values)
}

export function lifecycleReads(pool: pg.Pool): Pick<Reads, 'tasksByIds' | 'taskEvents' | 'matchTasks' | 'waitingAt'> {
  return {
    tasksByIds: (ids) => ids.length === 0 ? Promise.resolve([]) : byIds.all(pool, [ids]),
    taskEvents: (taskId, after, limit) => eventsOf.all(pool, [taskId, after, limit + 1]),
    matchTasks: (filter, after, limit) => matchTasks(pool, filter, after, limit),
    waitingAt: async (pipelineId, stage) => (await waiting.one(pool, [pipelineId, stage]))!.n,
  }
}
