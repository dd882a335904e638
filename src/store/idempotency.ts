import type { Db } from './db.ts'

export type IdempotencyRecord = { request_hash: Buffer; status: number; body: string | null }
export type IdempotencyKey = { key: string; method: string; path: string }

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>

export function createIdempotencyStore(db: Db) {
  const find = db.prepare<[string, string, string], IdempotencyRecord>(
    'SELECT request_hash, status, body FROM idempotency_keys WHERE key = ? AND method = ? AND path = ?',
  )
  const save = db.prepare(`
    INSERT INTO idempotency_keys (key, method, path, request_hash, status, body, created_at_ms)
    VALUES (@key, @method, @path, @request_hash, @status, @body, @now)`)
  const sweep = db.prepare('DELETE FROM idempotency_keys WHERE created_at_ms <= ?')

  return {
    find(k: IdempotencyKey): IdempotencyRecord | undefined {
      return find.get(k.key, k.method, k.path)
    },
    save(k: IdempotencyKey, requestHash: Buffer, status: number, body: string | null, nowMs: number): void {
      save.run({ ...k, request_hash: requestHash, status, body, now: nowMs })
    },
    /** Forgets records older than 24 h; returns how many. */
    sweepExpired(nowMs: number): number {
      return sweep.run(nowMs - IDEMPOTENCY_TTL_MS).changes
    },
  }
}
