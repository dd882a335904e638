import type { Db } from './db.ts'
import type { Clock } from '../../clock.ts'
import { isBusy } from './failures.ts'
import { storageBusy } from '../failures.ts'

/**
 * Commits state changes. Each change runs synchronously in its own SAVEPOINT inside a shared
 * IMMEDIATE transaction that collects every change made in the same event-loop turn (group commit):
 * one COMMIT, one WAL write, for all of them. A change that throws rolls back its savepoint alone; its
 * error is still delivered only after the shared commit, like every answer, since it may rest on a
 * neighbour's write. If COMMIT fails, every change of the batch fails and none is kept.
 *
 * The event loop never waits on the write lock: when another process holds it, BEGIN fails at once
 * (busy_timeout 0), changes queue in arrival order and BEGIN is retried on a timer; a change that has
 * waited `lockTimeoutMs` fails with 503 storage_busy, having changed nothing.
 */
export type Writer = {
  run<T>(change: () => T): Promise<T>
  /** Runs the change only if the write lock is free now (background work that can skip a turn); else null. */
  tryRun<T>(change: () => T): Promise<T> | null
  /** Resolves once the open batch (if any) is committed, so reads never answer with uncommitted data. */
  settled(): Promise<void>
  /**
   * While a change that had to wait for the lock runs: the time it arrived. The app's clock answers with it,
   * so a heartbeat sent before its lease expired counts as sent then, however long another process held
   * the lock.
   */
  lateChangeTime(): number | null
}

export type WriterOptions = {
  clock: Clock
  /** How long a change may wait for a write lock held by another process. */
  lockTimeoutMs: number
  /** A batch was rolled back: caches filled from its writes must be dropped. */
  onAbort?: () => void
}

type Pending = { resolve(value: unknown): void; reject(err: unknown): void; value: unknown; error: unknown; failed: boolean }
type Batch = { changes: Pending[]; committed: Promise<void>; markCommitted(): void }
/** A change waiting for the lock: it arrived at `arrivedAtMs` by the app's clock; it gives up by the real one. */
type Queued = { change: () => unknown; resolve(value: unknown): void; reject(err: unknown): void; arrivedAtMs: number; giveUpAtMs: number }

/** Enough to amortise a commit; small enough that one batch never holds the write lock for long. */
const MAX_BATCH = 128
// BEGIN IMMEDIATE costs a few µs when it fails: retry often at first (most holds are short), then every 25 ms.
const FIRST_RETRY_MS = 1
const MAX_RETRY_MS = 25

export const DEFAULT_LOCK_TIMEOUT_MS = 5000

export function createWriter(db: Db, options: WriterOptions): Writer {
  const { clock, lockTimeoutMs, onAbort = () => {} } = options
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  const savepoint = db.prepare('SAVEPOINT change')
  const rollbackTo = db.prepare('ROLLBACK TO change')
  const release = db.prepare('RELEASE change')
  let current: Batch | null = null
  const queue: Queued[] = []
  let retryTimer: NodeJS.Timeout | undefined
  let retryMs = FIRST_RETRY_MS
  let lateTime: number | null = null

  /** Opens a batch if the write lock can be had now. */
  function tryOpenBatch(): Batch | null {
    try {
      begin.run()
    } catch (err) {
      if (isBusy(err)) return null
      throw err
    }
    let markCommitted = () => {}
    const committed = new Promise<void>((resolve) => { markCommitted = resolve })
    const batch: Batch = { changes: [], committed, markCommitted }
    current = batch
    setImmediate(() => flush(batch))
    return batch
  }

  /** The open batch if it has room, else a new one; null while another process holds the lock. */
  function batchWithRoom(): Batch | null {
    if (current !== null && current.changes.length < MAX_BATCH) return current
    if (current !== null) flush(current)
    return tryOpenBatch()
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

  function execute(batch: Batch, change: () => unknown, settle: Pick<Pending, 'resolve' | 'reject'>, arrivedAtMs: number | null): void {
    const p: Pending = { ...settle, value: undefined, error: undefined, failed: false }
    batch.changes.push(p)
    savepoint.run()
    lateTime = arrivedAtMs
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
    } finally {
      lateTime = null
    }
  }

  function enqueue(change: () => unknown, settle: Pick<Pending, 'resolve' | 'reject'>): void {
    queue.push({ change, ...settle, arrivedAtMs: clock.now(), giveUpAtMs: performance.now() + lockTimeoutMs })
    if (retryTimer === undefined) armRetry()
  }

  function armRetry(): void {
    retryTimer = setTimeout(retryQueued, retryMs)
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2)
  }

  /** Runs queued changes in arrival order as far as the lock allows; the overdue ones fail first. */
  function retryQueued(): void {
    retryTimer = undefined
    const now = performance.now()
    while (queue.length > 0 && queue[0].giveUpAtMs <= now) queue.shift()!.reject(storageBusy())
    while (queue.length > 0) {
      let batch: Batch | null
      try {
        batch = batchWithRoom()
      } catch (err) {
        for (const q of queue.splice(0)) q.reject(err)
        break
      }
      if (batch === null) return armRetry()
      const q = queue.shift()!
      execute(batch, q.change, q, q.arrivedAtMs)
    }
    retryMs = FIRST_RETRY_MS
  }

  return {
    run<T>(change: () => T): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const settle = { resolve: resolve as (v: unknown) => void, reject }
        // Changes that wait for the lock keep their order: a new one queues behind them.
        const batch = queue.length > 0 ? null : batchWithRoom()
        if (batch === null) enqueue(change, settle)
        else execute(batch, change, settle, null)
      })
    },

    tryRun<T>(change: () => T): Promise<T> | null {
      const batch = queue.length > 0 ? null : batchWithRoom()
      if (batch === null) return null
      return new Promise<T>((resolve, reject) => execute(batch, change, { resolve: resolve as (v: unknown) => void, reject }, null))
    },

    settled(): Promise<void> {
      return current === null ? Promise.resolve() : current.committed
    },

    lateChangeTime: () => lateTime,
  }
}
