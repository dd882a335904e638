// Edits, deletes, signals at human gates and bulk requeues and cancels, as SQLite runs them (synchronously,
// inside the writer's batch). Each change writes a task event (task-events.ts) for what it did.
import type { Db } from './db.ts'
import type { Store } from './index.ts'
import type { Changes } from '../driver.ts'
import type { BulkItem, TaskRow } from '../types.ts'
import { AppError } from '../../domain/errors.ts'
import { bulkItemError } from '../bulk-item.ts'
import { editEventData, editOf } from '../../domain/task-patch.ts'
import { signalTransition } from '../../domain/signal.ts'
import { isTerminalStage } from '../../domain/pipeline.ts'

type LifecycleChanges = Pick<Changes, 'editTask' | 'deleteTask' | 'signalTask' | 'requeueTasks' | 'cancelTasks'>

export function createLifecycleChanges(db: Db, store: Store, onEligibleAt: (atMs: number) => void): LifecycleChanges {
  const update = db.prepare(`
    UPDATE tasks SET title = @title, description = @description, priority = @priority, metadata_json = @metadata_json,
      max_attempts = @max_attempts, retry_delay_ms = @retry_delay_ms, dead_letter_stage = @dead_letter_stage,
      next_eligible_at_ms = @next_eligible_at_ms, task_version = task_version + 1, updated_at_ms = @now
    WHERE id = @id`)
  // A delete, children first (foreign keys are on). Dependents of a task that was not resolved stop waiting on it.
  const releaseDependents = db.prepare(`
    UPDATE tasks SET open_dependencies = open_dependencies - 1
    WHERE id IN (SELECT task_id FROM task_dependencies WHERE depends_on_task_id = +?)`)
  const deletes = [
    'DELETE FROM events WHERE run_id IN (SELECT id FROM runs WHERE task_id = +@id)',
    'DELETE FROM artifacts WHERE run_id IN (SELECT id FROM runs WHERE task_id = +@id)',
    'DELETE FROM artifacts WHERE task_id = @id',
    'DELETE FROM task_events WHERE task_id = @id',
    'DELETE FROM task_assignments WHERE task_id = @id',
    'DELETE FROM task_dependencies WHERE task_id = @id',
    'DELETE FROM task_dependencies WHERE depends_on_task_id = @id',
    'DELETE FROM runs WHERE task_id = @id',
    'DELETE FROM tasks WHERE id = @id',
  ].map((sql) => db.prepare(sql))

  /** Each item on its own: an AppError answers that item; the checks come before any write of it. */
  function eachItem(ids: readonly string[], change: (id: string) => boolean): BulkItem[] {
    return ids.map((id) => {
      try {
        return { id, ok: true, changed: change(id) }
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        return { id, ok: false, changed: false, error: bulkItemError(err) }
      }
    })
  }

  function edit(task: TaskRow, patch: Parameters<Changes['editTask']>[1], nowMs: number): TaskRow {
    const e = editOf(task, patch, store.tasks.pipelineOf(task))
    update.run({ ...e, id: task.id, now: nowMs })
    if (e.assignee === null && task.assignee !== null) store.assignments.unassign(task.id, task.assignee, nowMs)
    if (e.assignee != null && e.assignee !== task.assignee) store.assignments.assign(task.id, e.assignee, null, nowMs)
    if (e.next_eligible_at_ms > nowMs) onEligibleAt(e.next_eligible_at_ms)
    store.taskEvents.append(task.id, 'edited', editEventData(patch, task), nowMs)
    return store.tasks.get(task.id)!
  }

  return {
    editTask: (taskId, patch, nowMs) => edit(store.tasks.require(taskId), patch, nowMs),

    deleteTask(taskId, force) {
      const task = store.tasks.require(taskId)
      if (task.active_run_id !== null && !force) {
        throw new AppError('lease_held', 409, 'Task holds a live lease; delete with force=true to cancel its run first')
      }
      if (!isTerminalStage(store.tasks.pipelineOf(task), task.stage)) releaseDependents.run(task.id)
      for (const stmt of deletes) stmt.run({ id: task.id })
    },

    signalTask(taskId, req, nowMs) {
      const task = store.tasks.require(taskId)
      const pipeline = store.tasks.pipelineOf(task)
      const t = signalTransition(task, pipeline, req.trigger, req.expectedStage)
      store.tasks.advance(task, t.to, nowMs)
      store.taskEvents.append(task.id, 'signaled', { trigger: t.trigger, from: task.stage, to: t.to, data: req.data ?? null }, nowMs)
      return { task: store.tasks.get(task.id)!, previous_stage: task.stage, new_stage: t.to, trigger: t.trigger }
    },

    requeueTasks: (ids, stage, nowMs) => eachItem(ids, (id) => {
      const task = store.tasks.require(id)
      store.outcomes.requeue(task, stage, nowMs)
      store.taskEvents.append(id, 'requeued', { bulk: true, from_stage: task.stage, to_stage: stage ?? task.stage }, nowMs)
      return true
    }),

    cancelTasks: (ids, reason, nowMs) => eachItem(ids, (id) => {
      const task = store.tasks.require(id)
      if (task.dead_letter_reason === 'canceled') return false
      store.outcomes.cancel(task, reason, nowMs)
      store.taskEvents.append(id, 'canceled', { bulk: true, reason }, nowMs)
      return true
    }),
  }
}
