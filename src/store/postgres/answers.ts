// Idempotency-Key answers on PostgreSQL: found and saved inside the write's transaction, after a lock on the
// key, so one key sent to two nodes at once runs its change once (the second waits, then replays).
import type { Tx } from './tx.ts'
import { statement } from './sql.ts'
import { IDEMPOTENCY_TTL_MS } from '../answers.ts'
import type { IdempotencyKey, IdempotencyRecord } from '../types.ts'

// Key space of the key locks: the two-int4 form, apart from the migration lock and claim.ts's stage locks.
const KEY_LOCK_SPACE = 0x646f636b

const lock = statement('answer_lock', `SELECT pg_advisory_xact_lock(${KEY_LOCK_SPACE}, hashtext($1 || E'\\n' || $2 || E'\\n' || $3))`)
const find = statement<IdempotencyRecord>('answer_find', `
  SELECT request_hash, status, body FROM idempotency_keys
  WHERE key = $1 AND method = $2 AND path_hash = docket_sha256($3) AND path = $3 AND created_at_ms > $4`)
// An expired record is overwritten by the next answer for its key.
const save = statement('answer_save', `
  INSERT INTO idempotency_keys (key, method, path, request_hash, status, body, created_at_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7)
  ON CONFLICT (key, method, path_hash) DO UPDATE SET request_hash = excluded.request_hash, status = excluded.status,
    body = excluded.body, created_at_ms = excluded.created_at_ms`)
const forget = statement('answer_forget', 'DELETE FROM idempotency_keys WHERE key = $1 AND method = $2 AND path_hash = docket_sha256($3)')
const sweep = statement('answer_sweep', 'DELETE FROM idempotency_keys WHERE created_at_ms <= $1')

export async function lockAnswer(tx: Tx, k: IdempotencyKey): Promise<void> {
  await lock.run(tx, [k.key, k.method, k.path])
}

export function findAnswer(tx: Tx, k: IdempotencyKey, nowMs: number): Promise<IdempotencyRecord | undefined> {
  return find.one(tx, [k.key, k.method, k.path, nowMs - IDEMPOTENCY_TTL_MS])
}

export async function saveAnswer(tx: Tx, k: IdempotencyKey, requestHash: Buffer, status: number, body: string | null, nowMs: number): Promise<void> {
  await save.run(tx, [k.key, k.method, k.path, requestHash, status, body, nowMs])
}

export async function forgetAnswer(tx: Tx, k: IdempotencyKey): Promise<void> {
  await forget.run(tx, [k.key, k.method, k.path])
}

export function sweepAnswers(tx: Tx, nowMs: number): Promise<number> {
  return sweep.run(tx, [nowMs - IDEMPOTENCY_TTL_MS])
}
