import type { Input } from './route.ts'
import type { App } from '../app.ts'
import type { LeaseProof } from '../domain/lease.ts'
import { AppError } from '../domain/errors.ts'
import { hashesEqual, leaseTokenHash } from '../domain/token.ts'
import { unauthorized } from './router.ts'

/**
 * The lease a request's bearer token proves (R§4.2 order: missing → 401, malformed → 401, unknown run → 404,
 * wrong token → 401), checked before the body is. The token keeps identifying its run after the lease
 * ends, so a retried request with an Idempotency-Key can still be replayed; whether the lease is live is
 * checked inside the change, which reads the run again.
 */
export async function leaseProofOf(input: Input, app: App, runId: string, missing: string, unknown: string): Promise<LeaseProof> {
  if (input.bearer === null) throw unauthorized(missing)
  const tokenHash = leaseTokenHash(input.bearer)
  if (tokenHash === null) throw unauthorized('Invalid token')
  const run = await app.driver.reads.run(runId)
  if (run === undefined) throw new AppError('not_found', 404, unknown)
  if (!hashesEqual(run.lease_token_hash, tokenHash)) throw unauthorized('Invalid token')
  return { runId, tokenHash }
}

/** Read routes open to the API token or to the lease token of the run they name (W20). */
export async function requireApiOrLease(input: Input, app: App, runId: string): Promise<void> {
  if (input.isApiAuthorized) return
  const hash = input.bearer === null ? null : leaseTokenHash(input.bearer)
  const run = hash === null ? undefined : await app.driver.reads.run(runId)
  if (run === undefined || hash === null || !hashesEqual(run.lease_token_hash, hash)) throw unauthorized()
}
