import * as v from 'valibot'
import { post, withAccess, type Input, type Route } from '../route.ts'
import { body, Name, optionalBody } from '../validate.ts'
import { json, noContent, rawJson, type Reply } from '../reply.ts'
import { runJson, taskJson } from '../render.ts'
import { leaseRequest } from '../lease-auth.ts'
import type { Claim } from '../../store/types.ts'
import { mapAwaitable } from '../../store/driver.ts'
import { idempotencyTuple, type CommitOptions } from '../commit.ts'
import type { App } from '../../app.ts'
import { observeClaimed, observeReaped, observeRunEnd } from '../../metrics/runs.ts'
import { NOTHING_REAPED } from '../../store/driver.ts'

export const MIN_LEASE_TTL_MS = 1000
export const MAX_LEASE_TTL_MS = 86_400_000
export const MAX_WAIT_MS = 60_000

const LeaseTtl = v.pipe(v.number(), v.safeInteger(), v.minValue(MIN_LEASE_TTL_MS), v.maxValue(MAX_LEASE_TTL_MS))

const ClaimBody = v.object({
  agent_id: Name,
  agent_role: Name,
  lease_ttl_ms: v.nullish(LeaseTtl),
  concurrency: v.nullish(v.object({ per_state: v.nullish(v.record(v.string(), v.unknown())) })),
  wait_ms: v.nullish(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(MAX_WAIT_MS))),
  pipeline_id: v.nullish(Name),
})

const HeartbeatBody = v.object({ lease_ttl_ms: v.nullish(LeaseTtl) })
const ReleaseBody = v.object({
  reason: v.nullish(v.pipe(v.string(), v.maxLength(4096))),
  delay_ms: v.nullish(v.pipe(v.number(), v.safeInteger(), v.minValue(0), v.maxValue(86_400_000))),
})

/** R§13.1: a numeric limit is truncated; anything else means no limit. */
function perStateLimits(raw: Record<string, unknown> | null | undefined): Record<string, number> {
  const limits: Record<string, number> = Object.create(null)
  for (const [stage, value] of Object.entries(raw ?? {})) limits[stage] = typeof value === 'number' ? Math.trunc(value) : 0
  return limits
}

function claimJson(c: Claim): string {
  return `{"task":${taskJson(c.task)},"run":${runJson(c.run)},"lease_id":${JSON.stringify(c.run.id)},` +
    `"lease_token":${JSON.stringify(c.token)},"expires_at_ms":${c.run.lease_expires_at_ms}}`
}

export const leaseRoutes: Route[] = [
  post('/leases/claim', async (input, app) => {
    const req = body(ClaimBody, input.body)
    const claimRequest = {
      agentId: req.agent_id,
      role: req.agent_role,
      ttlMs: req.lease_ttl_ms ?? 300_000,
      perState: perStateLimits(req.concurrency?.per_state),
      pipelineId: req.pipeline_id ?? null,
    }
    let reaped = NOTHING_REAPED
    let leaseId = ''
    const attempt = async () => {
      const reply = await app.commit(input, (c) => c.claim(claimRequest, app.clock.now()), (result): Reply => {
        reaped = result.reaped
        if (result.claim === null) return noContent()
        observeClaimed(app, result.claim.task)
        leaseId = result.claim.run.id
        return rawJson(200, claimJson(result.claim))
      }, claimOptions)
      // Reaping frees work for others (a claim's own commit wakes nobody).
      if (reaped.expired > 0) {
        observeReaped(app, reaped)
        app.waiters.poke()
        app.taskWatch.poke()
      }
      // The answer can go out now; if its client is gone, nobody would ever hold this lease.
      if (reply.status === 200 && input.signal.aborted) return giveBack(input, app, leaseId)
      return reply
    }
    const claimOptions: CommitOptions = {
      wakesWaiters: false,
      // Plaintext tokens are never stored: a replay answers with the same lease and a fresh token.
      recordBody: (reply) => reply.status === 200 ? withToken(reply.body!, '') : null,
      replay: (stored, c) => {
        leaseId = JSON.parse(stored.body!).run.id
        return mapAwaitable(c.rotateToken(leaseId), (token) => rawJson(200, withToken(stored.body!, token)))
      },
    }
    const waitMs = req.wait_ms ?? 0
    const startedAt = performance.now()
    const answered = (reply: Reply): Reply => {
      const outcome = reply.status === 200 ? 'claimed' : 'empty'
      app.metrics.claims.inc({ outcome })
      if (waitMs > 0) app.metrics.claimWait.observe({ outcome }, (performance.now() - startedAt) / 1000)
      return reply
    }
    // Agents already waiting for this role come first: a new claim queues behind them.
    if (waitMs === 0 || !app.waiters.hasWaiters(claimRequest.role)) {
      const reply = await attempt()
      if (reply.status !== 204 || waitMs === 0) return answered(reply)
    }
    return answered(await app.waiters.wait(claimRequest.role, claimRequest.agentId, waitMs, input.signal, attempt))
  }),

  withAccess(post('/leases/:id/heartbeat', async (input, app) => {
    const { lease, req } = await leaseRequest(input, app, input.params.id, 'Missing or invalid Authorization header', 'Lease not found',
      () => optionalBody(HeartbeatBody, input.body))
    return app.commit(input, (c) => c.heartbeat(lease, req.lease_ttl_ms ?? null, app.clock.now()),
      (expires) => {
        app.metrics.heartbeats.inc()
        return json(200, { expires_at_ms: expires })
      })
  }), 'lease'),

  // Gives the task back without counting an attempt (an agent that cannot do it, or is shutting down).
  withAccess(post('/leases/:id/release', async (input, app) => {
    const { lease, req } = await leaseRequest(input, app, input.params.id, 'Missing or invalid Authorization header', 'Lease not found',
      () => optionalBody(ReleaseBody, input.body))
    const delayMs = req.delay_ms ?? 0
    const nowMs = app.clock.now()
    return app.commit(input, (c) => c.release(lease, req.reason ?? null, null, nowMs, delayMs),
      () => {
        observeRunEnd(app, input.params.id, 'released')
        return json(200, { status: 'released', next_eligible_at_ms: nowMs + delayMs })
      })
  }), 'lease'),
]

/**
 * Ends the lease of a claim whose client went away before its answer could be sent: the run is `released`,
 * no attempt is counted, and the task is claimable again at once (the commit wakes the other waiters). The
 * claim's Idempotency-Key answer goes too, so a retry with that key claims afresh.
 */
async function giveBack(input: Input, app: App, leaseId: string): Promise<Reply> {
  const claimKey = input.idempotencyKey === null ? null : idempotencyTuple(input, input.idempotencyKey)
  try {
    await app.commit({ ...input, idempotencyKey: null }, (c) => c.release(leaseId, 'client_gone', claimKey, app.clock.now()), noContent)
  } catch (err) {
    app.log.error(`could not give back lease ${leaseId} of a client that went away; it ends with its TTL`, err)
  }
  return noContent()
}

function withToken(claimBody: string, token: string): string {
  const parsed = JSON.parse(claimBody)
  parsed.lease_token = token
  return JSON.stringify(parsed)
}
