// When a lease route may act on its run: the same rules on every driver.
import { AppError } from './errors.ts'
import { hashesEqual } from './token.ts'
import type { RunStatus } from './status.ts'

/** A lease as its request proves it: the run it names and the SHA-256 of the bearer token. */
export type LeaseProof = { runId: string; tokenHash: Buffer }

/** What of a run the lease rules read. */
type LeaseState = { status: RunStatus; lease_expires_at_ms: number | null; lease_token_hash: Buffer }

/** The lease of `run` must be live: canceled → 409, released → 404, expired but not yet reaped → 410. */
export function requireLiveLease(run: LeaseState, nowMs: number, releasedMessage = 'No active lease for this run'): void {
  if (run.status === 'canceled') throw new AppError('conflict', 409, 'Run was canceled')
  if (run.lease_expires_at_ms === null) throw new AppError('not_found', 404, releasedMessage)
  if (run.lease_expires_at_ms <= nowMs) throw new AppError('expired', 410, 'Lease expired')
}

/**
 * The run a lease route names, as it is now (inside the change: the route's own check may be older), with
 * the bearer's token still its token, and a live lease.
 */
export function liveRunOf<R extends LeaseState>(run: R | undefined, proof: LeaseProof, nowMs: number, unknown = 'No active lease for this run'): R {
  if (run === undefined) throw new AppError('not_found', 404, unknown)
  if (!hashesEqual(run.lease_token_hash, proof.tokenHash)) throw new AppError('unauthorized', 401, 'Invalid token')
  requireLiveLease(run, nowMs, unknown)
  return run
}
