import type { Input } from './route.ts'
import type { App } from '../app.ts'
import type { LeaseProof } from '../domain/lease.ts'
import { AppError } from '../domain/errors.ts'
import { hashesEqual, leaseTokenHash } from '../domain/token.ts'
import { unauthorized } from './router.ts'

/**
 * The lease a request's bearer token proves, and the request as `parse` reads it (body validation and the
 * route's own checks). R§4.2's order: missing token → 401, malformed → 401, unknown run → 404, wrong token
 * → 401, and only then an invalid request → 400. The token keeps identifying its run after the lease ends,
 * so a retried request with an Idempotency-Key can still be replayed; whether the lease is live is checked
 * inside the change, which reads the run.
 *
 * That change also answers an unknown run (404, with `unknown`, the same message) and a wrong token (401)
 * before anything else, so the run is read here only when its answer could differ from the change's: when
 * the request is invalid (to know which error comes first), and when it carries an Idempotency-Key (a
 * stored answer is replayed without running the change, so the token must be proven first).
 */
export async function leaseRequest<T>(input: Input, app: App, runId: string, missing: string, unknown: string, parse: () => T): Promise<{ lease: LeaseProof; req: T }> {
  if (input.bearer === null) throw unauthorized(missing)
  const tokenHash = leaseTokenHash(input.bearer)
  if (tokenHash === null) throw unauthorized('Invalid token')
  const lease = { runId, tokenHash }
  let req: T
  try {
    req = parse()
  } catch (err) {
    await proveLease(app, lease, unknown)
    throw err
  }
  if (input.idempotencyKey !== null) await proveLease(app, lease, unknown)
  return { lease, req }
}

/** The run must exist (else 404 with `unknown`) and be the token's (else 401). */
async function proveLease(app: App, lease: LeaseProof, unknown: string): Promise<void> {
  const run = await app.driver.reads.run(lease.runId)
  if (run === undefined) throw new AppError('not_found', 404, unknown)
  if (!hashesEqual(run.lease_token_hash, lease.tokenHash)) throw unauthorized('Invalid token')
}

/** Read routes open to the API token or to the lease token of the run they name (W20). */
export async function requireApiOrLease(input: Input, app: App, runId: string): Promise<void> {
  if (input.isApiAuthorized) return
  const hash = input.bearer === null ? null : leaseTokenHash(input.bearer)
  const run = hash === null ? undefined : await app.driver.reads.run(runId)
  if (run === undefined || hash === null || !hashesEqual(run.lease_token_hash, hash)) throw unauthorized()
}
