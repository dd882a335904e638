// Tasks, their dependency edges and assignments. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext, type TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'

export function tasksChanges(ctx: PgContext): Pick<TxChanges, 'createTasks' | 'addDependency' | 'removeDependency' | 'assign' | 'unassign'> {
  void ctx
  return {
    createTasks: notYet('createTasks'),
    addDependency: notYet('addDependency'),
    removeDependency: notYet('removeDependency'),
    assign: notYet('assign'),
    unassign: notYet('unassign'),
  }
}

export function tasksReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'task' | 'tasks' | 'dependencies' | 'assignments'> {
  void pool
  void ctx
  return {
    task: notYet('task'),
    tasks: notYet('tasks'),
    dependencies: notYet('dependencies'),
    assignments: notYet('assignments'),
  }
}
