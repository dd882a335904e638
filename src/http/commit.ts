import type { Input } from './route.ts'
import type { Reply } from './reply.ts'
import type { Answer, Awaitable, Changes, Driver } from '../store/driver.ts'
import type { IdempotencyKey } from '../store/types.ts'
import { sha256 } from '../domain/token.ts'

export type CommitOptions = {
  /** The body to keep for replays, or null to keep nothing (default: the whole body of any 2xx). */
  recordBody?: (reply: Answer) => string | null
  /** Turns a stored answer into the replayed one, inside the same transaction (claims rotate the token). */
  replay?: (stored: Answer, changes: Changes) => Awaitable<Answer>
  /** False for changes that cannot make work claimable (claims): waiting claims are not retried. */
  wakesWaiters?: boolean
}

export type Commit = <T>(input: Input, change: (changes: Changes) => Awaitable<T>, answer: (result: T) => Reply, options?: CommitOptions) => Promise<Reply>

const NO_BODY = Buffer.alloc(0)

/**
 * Runs a write route's change (one driver operation) in one transaction together with its Idempotency-Key
 * record, so a change and the record of its answer are committed, or rolled back, as one. A failed change
 * stores nothing: a retry of a 4xx runs again. After each commit, `onCommitted` lets waiting claims retry.
 */
export function createCommit(driver: Driver, onCommitted: () => void): Commit {
  return async (input, change, answer, options = {}) => {
    const key = input.idempotencyKey
    const reply = await driver.write(change, {
      key: key === null ? null : idempotencyTuple(input, key),
      requestHash: key === null ? NO_BODY : sha256(input.body ?? NO_BODY),
      answer,
      recordBody: options.recordBody,
      replay: options.replay,
    })
    if (options.wakesWaiters !== false) onCommitted()
    return reply
  }
}

/** What an Idempotency-Key answer is stored under: the key, the method and the path as sent. */
export function idempotencyTuple(input: Input, key: string): IdempotencyKey {
  return { key, method: input.method, path: input.rawPath }
}
