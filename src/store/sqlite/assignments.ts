import type { Db } from './db.ts'
import type { TaskStore } from './tasks.ts'
import { AppError } from '../../domain/errors.ts'
import type { AssignmentRow } from '../types.ts'

export type AssignmentStore = ReturnType<typeof createAssignmentStore>

export function createAssignmentStore(db: Db, tasks: TaskStore) {
  const deactivateAll = db.prepare('UPDATE task_assignments SET active = 0, updated_at_ms = ? WHERE task_id = ? AND active = 1')
  const upsert = db.prepare(`
    INSERT INTO task_assignments (task_id, agent_id, assigned_by, active, created_at_ms, updated_at_ms)
    VALUES (@task_id, @agent_id, @assigned_by, 1, @now, @now)
    ON CONFLICT (task_id, agent_id) DO UPDATE SET active = 1, assigned_by = excluded.assigned_by, updated_at_ms = excluded.updated_at_ms`)
  const deactivate = db.prepare(
    'UPDATE task_assignments SET active = 0, updated_at_ms = ? WHERE task_id = ? AND agent_id = ? AND active = 1',
  )
  const setAssignee = db.prepare('UPDATE tasks SET assignee = ? WHERE id = ?')
  const ofTask = db.prepare<[string], AssignmentRow>(
    'SELECT * FROM task_assignments WHERE task_id = +? ORDER BY created_at_ms, rowid',
  )

  return {
    /** A task has at most one active assignment: assigning replaces it, keeping the old rows as history. */
    assign(taskId: string, agentId: string, assignedBy: string | null, nowMs: number): void {
      tasks.require(taskId, 'task_not_found')
      deactivateAll.run(nowMs, taskId)
      upsert.run({ task_id: taskId, agent_id: agentId, assigned_by: assignedBy, now: nowMs })
      setAssignee.run(agentId, taskId)
    },

    unassign(taskId: string, agentId: string, nowMs: number): void {
      if (deactivate.run(nowMs, taskId, agentId).changes === 0) throw new AppError('not_found', 404, 'Assignment not found')
      setAssignee.run(null, taskId)
    },

    list(taskId: string): AssignmentRow[] {
      return ofTask.all(taskId)
    },
  }
}
