// Claims and the lease routes' changes, as SQLite runs them (synchronously, inside the writer's batch).
import type { Store } from './index.ts'
import type { Changes } from '../driver.ts'
import { liveRunOf, type LeaseProof } from '../../domain/lease.ts'

type LeaseChanges = Pick<Changes, 'claim' | 'rotateToken' | 'release' | 'heartbeat' | 'appendEvent' | 'transition' | 'fail' | 'expireDue'>

export function createLeaseChanges(store: Store): LeaseChanges {
  /** The proof's run as it is now, with a live lease the bearer's token still holds. */
  const liveRun = (proof: LeaseProof, nowMs: number, unknown?: string) => liveRunOf(store.runs.get(proof.runId), proof, nowMs, unknown)

  return {
    claim(req, nowMs) {
      // Reaping first, so a claim never waits on the reaper's period to see work an expired lease freed.
      const reaped = store.outcomes.expireDue(nowMs)
      return { claim: store.leases.claimNext(req, nowMs), reaped }
    },
    rotateToken: (runId) => store.leases.rotateToken(runId),
    release(lease, reason, claimKey, nowMs, delayMs = 0) {
      if (claimKey !== null) store.idempotency.forget(claimKey)
      const run = typeof lease === 'string' ? store.runs.get(lease) : liveRun(lease, nowMs, 'Lease not found')
      return store.outcomes.release(run, reason, delayMs, nowMs)
    },
    heartbeat(proof, ttlMs, nowMs) {
      const run = liveRun(proof, nowMs, 'Lease not found')
      return store.leases.heartbeat(run, ttlMs ?? run.lease_ttl_ms, nowMs)
    },
    appendEvent: (proof, kind, data, nowMs) => store.events.append(liveRun(proof, nowMs).id, kind, data, nowMs),
    transition: (proof, req, nowMs) => store.outcomes.transition(liveRun(proof, nowMs), req, nowMs),
    fail: (proof, error, usage, nowMs, retryDelayMs) => store.outcomes.fail(liveRun(proof, nowMs), error, usage, nowMs, retryDelayMs ?? null),
    expireDue: (nowMs) => store.outcomes.expireDue(nowMs),
  }
}
