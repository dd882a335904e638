import type { Input } from './route.ts'
import type { Reply } from './reply.ts'
import type { Writer } from '../store/sqlite/writer.ts'
import type { IdempotencyStore } from '../store/sqlite/idempotency.ts'
import type { Clock } from '../clock.ts'
import { AppError } from '../domain/errors.ts'
import { hashesEqual, sha256 } from '../domain/token.ts'
import type { IdempotencyKey } from '../store/types.ts'

export type CommitOptions = {
  /** The body to keep for replays, or null to keep nothing (default: the whole body of any 2xx). */
  recordBody?: (reply: Reply) => string | null
  /** Turns a stored answer into the replayed one, inside the same transaction (claims rotate the token). */
  replay?: (stored: Reply) => Reply
  /** False for changes that cannot make work claimable (claims): waiting claims are not retried. */
  wakesWaiters?: boolean
}

export type Commit = (input: Input, change: () => Reply, options?: CommitOptions) => Promise<Reply>

/**
 * Runs a write route's change in one transaction together with its Idempotency-Key record, so a change
 * and the record of its answer are committed, or rolled back, as one. A failed change stores nothing:
 * a retry of a 4xx runs again. The record is looked up inside the transaction, so two concurrent
 * requests with one key cannot both run. After each commit, `onCommitted` lets waiting claims retry.
 */
export function createCommit(writer: Writer, records: IdempotencyStore, clock: Clock, onCommitted: () => void): Commit {
  return async (input, change, options = {}) => {
    const key = input.idempotencyKey
    const reply = key === null
      ? await writer.run(change)
      : await writer.run(() => changeOnce(idempotencyTuple(input, key), sha256(input.body ?? Buffer.alloc(0))))
    if (options.wakesWaiters !== false) onCommitted()
    return reply

    function changeOnce(tuple: IdempotencyKey, requestHash: Buffer): Reply {
      const stored = records.find(tuple, clock.now())
      if (stored !== undefined) {
        if (!hashesEqual(stored.request_hash, requestHash)) {
          throw new AppError('idempotency_conflict', 409, 'Idempotency-Key was reused with a different request body')
        }
        const replayed = { status: stored.status, body: stored.body }
        return options.replay ? options.replay(replayed) : replayed
      }
      const fresh = change()
      if (fresh.status >= 200 && fresh.status < 300) {
        const body = options.recordBody ? options.recordBody(fresh) : fresh.body
        if (!options.recordBody || body !== null) records.save(tuple, requestHash, fresh.status, body, clock.now())
      }
      return fresh
    }
  }
}

/** What an Idempotency-Key answer is stored under: the key, the method and the path as sent. */
export function idempotencyTuple(input: Input, key: string): IdempotencyKey {
  return { key, method: input.method, path: input.rawPath }
}
