// Changes to tasks and their edges, as SQLite runs them (synchronously, inside the writer's batch).
import type { Store } from './index.ts'
import type { Changes } from '../driver.ts'
import type { NewTask } from '../types.ts'
import { AppError, TaskItemError } from '../../domain/errors.ts'

type TaskChanges = Pick<Changes, 'createTasks' | 'addDependency' | 'removeDependency' | 'assign' | 'unassign' | 'cancelTask' | 'requeueTask'>

export function createTaskChanges(store: Store): TaskChanges {
  function createTask(t: NewTask, nowMs: number): string {
    const id = store.tasks.create(t, nowMs)
    store.dependencies.addAtCreate(id, t.dependencies ?? [], nowMs)
    if (t.assigned_agent_id != null) store.assignments.assign(id, t.assigned_agent_id, t.assigned_by ?? null, nowMs)
    return id
  }

  return {
    createTasks(tasks, nowMs) {
      return tasks.map((t, i) => {
        try {
          return createTask(t, nowMs)
        } catch (err) {
          throw err instanceof AppError ? new TaskItemError(i, err) : err
        }
      })
    },
    addDependency: (taskId, dependsOn, nowMs) => store.dependencies.add(taskId, dependsOn, nowMs),
    removeDependency: (taskId, dependsOn) => store.dependencies.remove(taskId, dependsOn),
    assign: (taskId, agentId, assignedBy, nowMs) => store.assignments.assign(taskId, agentId, assignedBy, nowMs),
    unassign: (taskId, agentId, nowMs) => store.assignments.unassign(taskId, agentId, nowMs),
    cancelTask: (taskId, reason, nowMs) => store.outcomes.cancel(store.tasks.require(taskId), reason, nowMs),
    requeueTask: (taskId, stage, nowMs) => store.outcomes.requeue(store.tasks.require(taskId), stage, nowMs),
  }
}
