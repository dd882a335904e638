import type { Db } from './db.ts'
import type { TaskStore } from './tasks.ts'
import { AppError } from '../../domain/errors.ts'
import type { DependencyView } from '../types.ts'

export type DependencyStore = ReturnType<typeof createDependencyStore>

export function createDependencyStore(db: Db, tasks: TaskStore) {
  const insertEdge = db.prepare('INSERT INTO task_dependencies (task_id, depends_on_task_id, created_at_ms) VALUES (?, ?, ?)')
  const deleteEdge = db.prepare('DELETE FROM task_dependencies WHERE task_id = ? AND depends_on_task_id = ?')
  const edgeExists = db.prepare('SELECT 1 FROM task_dependencies WHERE task_id = ? AND depends_on_task_id = ?').pluck()
  const upstreamOf = db.prepare<[string], string>(
    'SELECT depends_on_task_id FROM task_dependencies WHERE task_id = +? ORDER BY rowid',
  ).pluck()
  // Would `task` depending on `upstream` close a cycle? Only if `task` is already upstream of `upstream`.
  const reaches = db.prepare(`
    WITH RECURSIVE up (id) AS (
      SELECT depends_on_task_id FROM task_dependencies WHERE task_id = +@from
      UNION
      SELECT d.depends_on_task_id FROM task_dependencies d JOIN up ON d.task_id = up.id
    )
    SELECT 1 FROM up WHERE id = +@to LIMIT 1`).pluck()
  const shiftOpen = db.prepare('UPDATE tasks SET open_dependencies = open_dependencies + ? WHERE id = ?')

  /** The one way an edge is written: the downstream task gains an open dependency unless upstream is done. */
  function link(taskId: string, dependsOn: string, nowMs: number): void {
    insertEdge.run(taskId, dependsOn, nowMs)
    if (!tasks.isResolved(dependsOn)) shiftOpen.run(1, taskId)
  }

  return {
    add(taskId: string, dependsOn: string, nowMs: number): void {
      if (taskId === dependsOn) throw new AppError('invalid_dependency', 400, 'Task cannot depend on itself')
      tasks.require(taskId, 'task_not_found')
      tasks.require(dependsOn, 'dependency_task_not_found', 'Dependency task not found')
      if (edgeExists.get(taskId, dependsOn) !== undefined) throw new AppError('duplicate_dependency', 409, 'Dependency already exists')
      if (reaches.get({ from: dependsOn, to: taskId }) !== undefined) {
        throw new AppError('dependency_cycle', 400, `Task ${dependsOn} already depends on ${taskId}, directly or through other tasks`)
      }
      link(taskId, dependsOn, nowMs)
    },

    /**
     * The edges of a task being created (R§10.2 codes): each upstream must exist and be listed once.
     * Nothing depends on a new task yet, so these edges cannot close a cycle.
     */
    addAtCreate(taskId: string, dependsOn: readonly string[], nowMs: number): void {
      const seen = new Set<string>()
      dependsOn.forEach((dep, i) => {
        const path = `dependencies[${i}]`
        if (seen.has(dep)) throw new AppError('duplicate_dependency', 409, 'Dependency already exists', [{ path, message: 'listed twice' }])
        seen.add(dep)
        if (tasks.get(dep) === undefined) throw new AppError('task_not_found', 404, 'Dependency task not found', [{ path, message: 'Dependency task not found' }])
        link(taskId, dep, nowMs)
      })
    },

    remove(taskId: string, dependsOn: string): void {
      if (deleteEdge.run(taskId, dependsOn).changes === 0) throw new AppError('not_found', 404, 'Dependency not found')
      if (!tasks.isResolved(dependsOn)) shiftOpen.run(-1, taskId)
    },

    list(taskId: string): DependencyView[] {
      return upstreamOf.all(taskId).map((id) => ({ depends_on_task_id: id, resolved: tasks.isResolved(id) }))
    },
  }
}
