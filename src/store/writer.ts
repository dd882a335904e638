import type { Db } from './db.ts'

/**
 * Commits state changes. Each change runs synchronously in its own SAVEPOINT inside a shared
 * IMMEDIATE transaction that collects every change made in the same event-loop turn (group commit):
 * one COMMIT, one WAL write, for all of them. A change that throws rolls back its savepoint alone; its
 * error is still delivered only after the shared commit, like every answer, since it may rest on a
 * neighbour's write. If COMMIT fails, every change of the batch fails and none is kept.
 */
export type Writer = {
  run<T>(change: () => T): Promise<T>
  /** Resolves once the open batch (if any) is committed, so reads never answer with uncommitted data. */
  settled(): Promise<void>
}

type Pending = { resolve(value: unknown): void; reject(err: unknown): void; value: unknown; error: unknown; failed: boolean }
type Batch = { changes: Pending[]; committed: Promise<void>; markCommitted(): void }

/** Enough to amortise a commit; small enough that one batch never holds the write lock for long. */
const MAX_BATCH = 128

export function createWriter(db: Db, onAbort: () => void = () => {}): Writer {
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  const savepoint = db.prepare('SAVEPOINT change')
  const rollbackTo = db.prepare('ROLLBACK TO change')
  const release = db.prepare('RELEASE change')
  let current: Batch | null = null

  function openBatch(): Batch {
    begin.run()
    let markCommitted = () => {}
    const committed = new Promise<void>((resolve) => { markCommitted = resolve })
    const batch: Batch = { changes: [], committed, markCommitted }
    current = batch
    setImmediate(() => flush(batch))
    return batch
  }

  function flush(batch: Batch): void {
    if (current !== batch) return // already flushed: full, or aborted
    current = null
    let commitError: unknown = null
    try {
      if (db.inTransaction) commit.run()
    } catch (err) {
      commitError = err
      if (db.inTransaction) rollback.run()
      onAbort()
    }
    batch.markCommitted()
    for (const p of batch.changes) {
      if (commitError !== null) p.reject(commitError)
      else if (p.failed) p.reject(p.error)
      else p.resolve(p.value)
    }
  }

  return {
    run<T>(change: () => T): Promise<T> {
      let batch = current ?? openBatch()
      if (batch.changes.length >= MAX_BATCH) {
        flush(batch)
        batch = openBatch()
      }
      return new Promise<T>((resolve, reject) => {
        const p: Pending = { resolve: resolve as (v: unknown) => void, reject, value: undefined, error: undefined, failed: false }
        batch.changes.push(p)
        savepoint.run()
        try {
          p.value = change()
          release.run()
        } catch (err) {
          p.failed = true
          p.error = err
          if (db.inTransaction) {
            rollbackTo.run()
            release.run()
          } else {
            // SQLite rolled the whole transaction back by itself (SQLITE_FULL, IOERR): the batch is lost.
            for (const other of batch.changes) if (!other.failed) Object.assign(other, { failed: true, error: err })
            onAbort()
            flush(batch)
          }
        }
      })
    },

    settled(): Promise<void> {
      return current === null ? Promise.resolve() : current.committed
    },
  }
}
