// Idempotency-Key answers, the same on every driver: what a stored answer replays as, and what of a fresh
// answer is stored. The driver looks the record up and saves it inside the transaction of the change.
import { AppError } from '../domain/errors.ts'
import { hashesEqual } from '../domain/token.ts'
import type { Answer, Recording } from './driver.ts'
import type { IdempotencyRecord } from './types.ts'

/** A recorded answer replays for 24 hours; then it is forgotten (swept) and the key is free again. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000

/** A recorded answer for this key: replayed when the body is the same, else 409. */
export function recordedAnswer(stored: IdempotencyRecord, recording: Recording<unknown>): Answer {
  if (!hashesEqual(stored.request_hash, recording.requestHash)) {
    throw new AppError('idempotency_conflict', 409, 'Idempotency-Key was reused with a different request body')
  }
  return { status: stored.status, body: stored.body }
}

/** What to store of a fresh answer: only a 2xx, and only what `recordBody` keeps (null: nothing). */
export function answerToRecord(fresh: Answer, recording: Recording<unknown>): Answer | null {
  if (fresh.status < 200 || fresh.status >= 300) return null
  if (recording.recordBody === undefined) return fresh
  const body = recording.recordBody(fresh)
  return body === null ? null : { status: fresh.status, body }
}
