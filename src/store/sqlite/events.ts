import type { Db } from './db.ts'
import type { EventRow } from '../types.ts'

export type EventStore = ReturnType<typeof createEventStore>

export function createEventStore(db: Db) {
  const insert = db.prepare('INSERT INTO events (run_id, ts_ms, kind, data_json) VALUES (?, ?, ?, ?)')
  const ofRun = db.prepare<[string, number, number], EventRow>(
    'SELECT * FROM events WHERE run_id = +? AND id > +? ORDER BY id LIMIT +?',
  )
  return {
    /** Appends an event; `data` is serialised here so every writer stores the same canonical JSON. */
    append(runId: string, kind: string, data: unknown, nowMs: number): number {
      return Number(insert.run(runId, nowMs, kind, JSON.stringify(data ?? {})).lastInsertRowid)
    },
    /** Events of a run after event id `after`, limit + 1 rows (see pageJson). */
    listOf(runId: string, after: number, limit: number): EventRow[] {
      return ofRun.all(runId, after, limit + 1)
    },
  }
}
