import type { Db } from './db.ts'
import type { TaskEventRow } from '../types.ts'

export type TaskEventStore = ReturnType<typeof createTaskEventStore>

/** Events of a task outside any run (edits, signals, bulk requeues and cancels). */
export function createTaskEventStore(db: Db) {
  const insert = db.prepare('INSERT INTO task_events (task_id, ts_ms, kind, data_json) VALUES (?, ?, ?, ?)')
  const ofTask = db.prepare<[string, number, number], TaskEventRow>(
    'SELECT * FROM task_events WHERE task_id = +? AND id > +? ORDER BY id LIMIT +?',
  )
  return {
    append(taskId: string, kind: string, data: unknown, nowMs: number): void {
      insert.run(taskId, nowMs, kind, JSON.stringify(data ?? {}))
    },
    /** limit + 1 rows (see pageJson). */
    listOf(taskId: string, after: number, limit: number): TaskEventRow[] {
      return ofTask.all(taskId, after, limit + 1)
    },
  }
}
