import type { Input } from './route.ts'
import type { App } from '../app.ts'
import { AppError } from '../domain/errors.ts'
import { hashesEqual, leaseTokenHash } from '../domain/token.ts'
import { unauthorized } from './router.ts'
import type { RunRow } from '../store/types.ts'

/**
 * The run whose lease token is the bearer (R§4.2 order: missing → 401, malformed → 401, unknown run → 404,
 * wrong token → 401). The token keeps identifying its run after the lease ends, so a retried request with
 * an Idempotency-Key can still be replayed; whether the lease is live is checked inside the change.
 */
export function runOfLeaseToken(input: Input, app: App, runId: string, missing: string, unknown: string): RunRow {
  if (input.bearer === null) throw unauthorized(missing)
  const hash = leaseTokenHash(input.bearer)
  if (hash === null) throw unauthorized('Invalid token')
  const run = app.store.runs.get(runId)
  if (run === undefined) throw new AppError('not_found', 404, unknown)
  if (!hashesEqual(run.lease_token_hash, hash)) throw unauthorized('Invalid token')
  return run
}

/** Read routes open to the API token or to the lease token of the run they name (W20). */
export function requireApiOrLease(input: Input, app: App, runId: string): void {
  if (input.isApiAuthorized) return
  const hash = input.bearer === null ? null : leaseTokenHash(input.bearer)
  const run = hash === null ? undefined : app.store.runs.get(runId)
  if (run === undefined || hash === null || !hashesEqual(run.lease_token_hash, hash)) throw unauthorized()
}

/**
 * `run` as it is now, inside the change: the change may run later than the token check (it waited for a
 * lock another process held), and the run may have moved on, or its token rotated, in between.
 */
export function currentRun(app: App, run: RunRow, unknown: string): RunRow {
  const now = app.store.runs.get(run.id)
  if (now === undefined) throw new AppError('not_found', 404, unknown)
  if (!hashesEqual(now.lease_token_hash, run.lease_token_hash)) throw unauthorized('Invalid token')
  return now
}
