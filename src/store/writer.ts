import type { Db } from './db.ts'

/**
 * Runs each state change in one IMMEDIATE transaction. Callers get a promise so that the commit strategy
 * (one transaction per request today) can change without touching them.
 */
export type Writer = { run<T>(change: () => T): Promise<T> }

export function createWriter(db: Db): Writer {
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  return {
    async run<T>(change: () => T): Promise<T> {
      begin.run()
      try {
        const result = change()
        commit.run()
        return result
      } catch (err) {
        // SQLite may already have rolled back by itself (SQLITE_FULL, IOERR).
        if (db.inTransaction) rollback.run()
        throw err
      }
    },
  }
}
