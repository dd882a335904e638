import type { Db } from './db.ts'
import type { RunRow } from '../types.ts'

export type RunStore = ReturnType<typeof createRunStore>

export function createRunStore(db: Db) {
  const byId = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = +?')
  const latest = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE task_id = +? ORDER BY attempt DESC LIMIT 1')
  const ofTask = db.prepare<[string, number, number], RunRow>(
    'SELECT * FROM runs WHERE task_id = +? AND attempt > +? ORDER BY attempt LIMIT +?',
  )
  return {
    get(id: string): RunRow | undefined {
      return byId.get(id)
    },
    latestOf(taskId: string): RunRow | undefined {
      return latest.get(taskId)
    },
    /** Runs of a task in attempt order, after attempt `after`; limit + 1 rows (see pageJson). */
    listOf(taskId: string, after: number, limit: number): RunRow[] {
      return ofTask.all(taskId, after, limit + 1)
    },
  }
}
