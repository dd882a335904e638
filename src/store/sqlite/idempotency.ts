import type { Db } from './db.ts'
import { IDEMPOTENCY_TTL_MS } from '../answers.ts'
import type { IdempotencyKey, IdempotencyRecord } from '../types.ts'


export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>

export function createIdempotencyStore(db: Db) {
  // A record is expired from the moment it is 24 h old, whether or not the sweep has removed it yet;
  // an expired one is then overwritten by the next answer for its key.
  const find = db.prepare<[string, string, string, number], IdempotencyRecord>(
    'SELECT request_hash, status, body FROM idempotency_keys WHERE key = ? AND method = ? AND path = ? AND created_at_ms > ?',
  )
  const save = db.prepare(`
    INSERT INTO idempotency_keys (key, method, path, request_hash, status, body, created_at_ms)
    VALUES (@key, @method, @path, @request_hash, @status, @body, @now)
    ON CONFLICT (key, method, path) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status,
      body = excluded.body, created_at_ms = excluded.created_at_ms`)
  const sweep = db.prepare('DELETE FROM idempotency_keys WHERE created_at_ms <= ?')
  const forget = db.prepare('DELETE FROM idempotency_keys WHERE key = @key AND method = @method AND path = @path')

  return {
    /** The live record for a key, if any. */
    find(k: IdempotencyKey, nowMs: number): IdempotencyRecord | undefined {
      return find.get(k.key, k.method, k.path, nowMs - IDEMPOTENCY_TTL_MS)
    },
    save(k: IdempotencyKey, requestHash: Buffer, status: number, body: string | null, nowMs: number): void {
      save.run({ ...k, request_hash: requestHash, status, body, now: nowMs })
    },
    /** Forgets the answer of a change that was undone (a claim whose lease was given back). */
    forget(k: IdempotencyKey): void {
      forget.run(k)
    },
    /** Forgets records older than 24 h; returns how many. */
    sweepExpired(nowMs: number): number {
      return sweep.run(nowMs - IDEMPOTENCY_TTL_MS).changes
    },
  }
}
