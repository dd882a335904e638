// A lease's own changes that touch only its run (heartbeat, events, a replayed claim's new token), one
// statement each, and who could claim a role's work. (PostgreSQL driver)
//
// Heartbeat and events write only if the lease is live and the bearer's, locking the run as they do (alone,
// without BEGIN or COMMIT, when first in their transaction: tx.ts); only when they find it is not do they
// read the run again to answer why, with the same checks and answers as SQLite (domain/lease.ts
// liveRunOf). SQL compares the token's SHA-256 with the stored one: equality of digests, as hashesEqual's,
// so its timing tells nothing of the token. Nothing is written for a wrong token (no event id used up: ids
// stay those SQLite hands out).
import type pg from 'pg'
import type { Tx } from './tx.ts'
import { statement } from './sql.ts'
import { liveRunOf, type LeaseProof } from '../../domain/lease.ts'
import { issueLeaseToken } from '../../domain/token.ts'
import type { Claimants } from '../driver.ts'
import type { RunState } from './outcome-sql.ts'

// A new TTL applies to this extension only; the run keeps the TTL it was claimed with (as on SQLite).
const extend = statement<{ lease_expires_at_ms: number }>('lease_extend', `
  UPDATE runs SET lease_expires_at_ms = $2 + coalesce($3::bigint, lease_ttl_ms), last_heartbeat_ms = $2
  WHERE id = $1 AND lease_expires_at_ms > $2 AND lease_token_hash = $4
  RETURNING lease_expires_at_ms`)
// FOR NO KEY UPDATE: appends to one run take turns with each other and with the run's end, so a run's
// events commit in id order (a list paged by id misses none) and none lands after its transition.
const append = statement<{ id: number }>('lease_append_event', `
  INSERT INTO events (run_id, ts_ms, kind, data_json)
  SELECT id, $2, $3, $4 FROM runs WHERE id = $1 AND lease_expires_at_ms > $2 AND lease_token_hash = $5 FOR NO KEY UPDATE
  RETURNING id`)
const runState = statement<RunState>('lease_run_state', 'SELECT id, status, lease_expires_at_ms, lease_token_hash FROM runs WHERE id = $1')
const rotate = statement('lease_rotate_token', 'UPDATE runs SET lease_token_hash = $2 WHERE id = $1')
// Who could take the role's claimable work, from the first 256 tasks of each (pipeline, stage) in claim
// order, pairs in (pipeline, stage) order as SQLite reads them: NULL stands for "anyone". A sample on
// purpose (see SQLite's leases.ts).
const claimableBy = statement<{ assignee: string | null }>('lease_claimable_by', `
  SELECT c.assignee FROM stage_roles r
  JOIN pipelines p ON p.id = r.pipeline_id AND NOT p.paused
  CROSS JOIN LATERAL (
    SELECT t.assignee, row_number() OVER () AS n FROM (
      SELECT t.assignee FROM tasks t
      WHERE t.pipeline_id = r.pipeline_id AND t.stage = r.stage
        AND t.dead_letter_reason IS NULL AND t.active_run_id IS NULL AND t.open_dependencies = 0
        AND t.next_eligible_at_ms <= $2
      ORDER BY t.priority DESC, t.created_at_ms, t.id
      LIMIT 256
    ) t
  ) c
  WHERE r.agent_role = $1
  ORDER BY r.pipeline_id, r.stage, c.n`)

/** The lease is not live, or not the bearer's: the answer SQLite would give (this throws). */
async function refuse(tx: Tx, proof: LeaseProof, nowMs: number, unknown?: string): Promise<never> {
  liveRunOf(await runState.one(tx, [proof.runId]), proof, nowMs, unknown)
  throw new Error(`lease ${proof.runId} is live but could not be written`)
}

/** Extends a live lease by `ttlMs` (default: the run's TTL) from now; returns the new expiry. One round trip. */
export async function heartbeat(tx: Tx, proof: LeaseProof, ttlMs: number | null, nowMs: number): Promise<number> {
  const [row] = (await extend.alone(tx, [proof.runId, nowMs, ttlMs, proof.tokenHash])).rows
  return row?.lease_expires_at_ms ?? refuse(tx, proof, nowMs, 'Lease not found')
}

/** An agent's event on its live lease; returns its id. One round trip. */
export async function appendEvent(tx: Tx, proof: LeaseProof, kind: string, data: unknown, nowMs: number): Promise<number> {
  const [row] = (await append.alone(tx, [proof.runId, nowMs, kind, JSON.stringify(data ?? {}), proof.tokenHash])).rows
  return row?.id ?? refuse(tx, proof, nowMs)
}

/** A new token for a run's lease; the previous one stops working (claim replays). One round trip. */
export async function rotateToken(tx: Tx, runId: string): Promise<string> {
  const { token, hash } = issueLeaseToken()
  await rotate.run(tx, [runId, hash])
  return token
}

/** Who could claim the role's claimable work right now (concurrency limits aside). */
export async function claimants(pool: pg.Pool, role: string, nowMs: number): Promise<Claimants> {
  const agents = new Set<string>()
  for (const { assignee } of await claimableBy.all(pool, [role, nowMs])) {
    if (assignee === null) return { anyone: true, agents }
    agents.add(assignee)
  }
  return { anyone: false, agents }
}
