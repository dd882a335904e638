// Assignments: a task has at most one active one (tasks.assignee names its agent); older ones are kept as
// history. (PostgreSQL driver)
import type pg from 'pg'
import type { Tx } from './tx.ts'
import type { PgContext } from './context.ts'
import { statement } from './sql.ts'
import { AppError } from '../../domain/errors.ts'
import type { AssignmentRow } from '../types.ts'

// Both changes lock the task row first (this UPDATE, or the SELECT below) and only then touch its
// assignments, in statements of their own: under READ COMMITTED a statement that waited for the lock still
// reads the snapshot it started with, and would not see the active assignment another node's assign just
// committed, leaving two active. One lock order (task, then assignments) also keeps the two from deadlocking.
const setAssignee = statement('assignments_set_assignee', 'UPDATE tasks SET assignee = $2 WHERE id = $1')
const lockTask = statement('assignments_lock_task', 'SELECT 1 FROM tasks WHERE id = $1 FOR NO KEY UPDATE')
const replace = statement('assignments_replace', `
  WITH previous AS (
    UPDATE task_assignments SET active = false, updated_at_ms = $4 WHERE task_id = $1 AND active AND agent_id <> $2
  )
  INSERT INTO task_assignments (task_id, agent_id, assigned_by, active, created_at_ms, updated_at_ms)
  VALUES ($1, $2, $3, true, $4, $4)
  ON CONFLICT (task_id, agent_id) DO UPDATE SET active = true, assigned_by = excluded.assigned_by, updated_at_ms = excluded.updated_at_ms`)
const end = statement('assignments_end', `
  WITH ended AS (
    UPDATE task_assignments SET active = false, updated_at_ms = $3 WHERE task_id = $1 AND agent_id = $2 AND active
    RETURNING task_id
  )
  UPDATE tasks SET assignee = NULL FROM ended WHERE tasks.id = ended.task_id`)
// `active` as 0/1, as AssignmentRow has it (SQLite's column).
const ofTask = statement<AssignmentRow>('assignments_of_task', `
  SELECT task_id, agent_id, assigned_by, active::int AS active, created_at_ms, updated_at_ms
  FROM task_assignments WHERE task_id = $1 ORDER BY created_at_ms, seq`)

/** Assigning replaces the active assignment; who may claim the task changes, so every node's waiters re-check. */
export async function assign(ctx: PgContext, tx: Tx, taskId: string, agentId: string, assignedBy: string | null, nowMs: number): Promise<void> {
  if (await setAssignee.run(tx, [taskId, agentId]) === 0) throw new AppError('task_not_found', 404, 'Task not found')
  await replace.run(tx, [taskId, agentId, assignedBy, nowMs])
  ctx.wake(tx)
}

export async function unassign(ctx: PgContext, tx: Tx, taskId: string, agentId: string, nowMs: number): Promise<void> {
  await lockTask.run(tx, [taskId])
  if (await end.run(tx, [taskId, agentId, nowMs]) === 0) throw new AppError('not_found', 404, 'Assignment not found')
  ctx.wake(tx)
}

export function listAssignments(pool: pg.Pool, taskId: string): Promise<AssignmentRow[]> {
  return ofTask.all(pool, [taskId])
}
