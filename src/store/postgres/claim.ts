// The claim: the best claimable task of a role leased to an agent, in one statement and one round trip —
// the task row locked (FOR UPDATE SKIP LOCKED, so concurrent claimers on any node step over each other's
// rows instead of waiting), its run inserted, the task marked as held, all committed together.
import type { Tx } from './tx.ts'
import { NOTHING_REAPED, type Reaped } from '../driver.ts'
import type { Claim, ClaimRequest, TaskRow } from '../types.ts'
import { newId } from '../../domain/ids.ts'
import { issueLeaseToken } from '../../domain/token.ts'
import { statement } from './sql.ts'
import { leasedRun } from '../leased-run.ts'

// Per (pipeline, stage) of the role: one ordered search of the partial index tasks_claimable, LIMIT 1 FOR
// UPDATE SKIP LOCKED (the LATERAL is the fence that keeps the planner from locking more than that row);
// then the best of those few candidates. The claimability conditions sit beside FOR UPDATE on purpose: a
// row changed by a claimer that committed after this statement's snapshot is re-checked against them once
// locked (EvalPlanQual), so a task just taken elsewhere is dropped, never handed out twice.
// A role that spans several stages locks one candidate per stage for the statement's few hundred
// microseconds; a concurrent claimer skips those, so it can find nothing while one of them is about to be
// unlocked untaken. That is a delay, not a loss: the long-poll re-check finds it.
// $7/$8: per-stage limits on live leases (stage names and limits; a limit ≤ 0 means none; none at all: the
// counts are not even looked at), counted from the
// stage's held tasks (index tasks_held: a live lease is always its task's active run). The count is exact
// only under the stage locks claimNext takes first (lockStages); see there.
// $10: only the role's stages in this pipeline, when not null.
// $9: claim nothing while any lease is due (reap_first says so): the caller reaps, then claims again without
// it. A claim thus sees the work expired leases free, as on SQLite, and pays for the reaper's probe inside
// its own statement instead of in a round trip of its own: min() is the first entry of runs_live_leases
// (a probe written as EXISTS (… <= $3) gets a sequential scan in the generic plan).
export const CLAIM_SQL = `
WITH due AS (
  SELECT $9::boolean AND coalesce((SELECT min(lease_expires_at_ms) FROM runs) <= $3, false) AS reap_first
), next AS (
  SELECT c.* FROM stage_roles r
  JOIN pipelines p ON p.id = r.pipeline_id AND NOT p.paused
  CROSS JOIN LATERAL (
    SELECT t.* FROM tasks t
    WHERE t.pipeline_id = r.pipeline_id AND t.stage = r.stage
      AND t.dead_letter_reason IS NULL AND t.active_run_id IS NULL AND t.open_dependencies = 0
      AND t.next_eligible_at_ms <= $3 AND (t.assignee IS NULL OR t.assignee = $2)
    ORDER BY t.priority DESC, t.created_at_ms, t.id
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
  ) c
  WHERE r.agent_role = $1 AND ($10::text IS NULL OR r.pipeline_id = $10) AND NOT (SELECT reap_first FROM due)
    AND (cardinality($7::text[]) = 0
      OR coalesce((SELECT l.max FROM unnest($7::text[], $8::bigint[]) l (stage, max) WHERE l.stage = r.stage), 0) <= 0
      OR (SELECT count(*) FROM tasks lt JOIN runs lr ON lr.id = lt.active_run_id
          WHERE lt.pipeline_id = r.pipeline_id AND lt.stage = r.stage AND lt.active_run_id IS NOT NULL
            AND lr.lease_expires_at_ms > $3)
         < (SELECT l.max FROM unnest($7::text[], $8::bigint[]) l (stage, max) WHERE l.stage = r.stage))
  ORDER BY c.priority DESC, c.created_at_ms, c.id
  LIMIT 1
), run AS (
  INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash,
    lease_ttl_ms, lease_expires_at_ms, last_heartbeat_ms)
  SELECT $4, next.id, coalesce((SELECT max(attempt) FROM runs WHERE task_id = next.id), 0) + 1, 'running', $2, $1,
    $3, $5, $6, $3 + $6, $3
  FROM next
  RETURNING attempt
), held AS (
  UPDATE tasks SET active_run_id = $4 FROM next WHERE tasks.id = next.id
)
SELECT due.reap_first, next.*, run.attempt AS run_attempt FROM due LEFT JOIN (next CROSS JOIN run) ON true`

/** The parameters of CLAIM_SQL for a request (exported for the EXPLAIN test). */
export function claimParams(req: ClaimRequest, nowMs: number, runId: string, tokenHash: Buffer, unlessDue: boolean): unknown[] {
  const limited = Object.entries(req.perState).filter(([, max]) => max > 0)
  return [req.role, req.agentId, nowMs, runId, tokenHash, req.ttlMs, limited.map(([s]) => s), limited.map(([, max]) => max), unlessDue, req.pipelineId ?? null]
}

// Lock key space for stage locks: the two-int4 form, so it can never collide with the bigint
// MIGRATION_LOCK (PostgreSQL keeps the two forms apart).
const STAGE_LOCK_SPACE = 0x646f6373

/** Serializes claims on the role's (pipeline, stage) pairs among `stages`, until the transaction ends. */
const stageLocks = statement('claim_stage_locks', `
  SELECT pg_advisory_xact_lock(${STAGE_LOCK_SPACE}, hashtext(pipeline_id || E'\\n' || stage))
  FROM (SELECT pipeline_id, stage FROM stage_roles WHERE agent_role = $1 AND stage = ANY($2::text[])
        ORDER BY hashtext(pipeline_id || E'\\n' || stage)) pairs`)

const claimStatement = statement<ClaimedRow>('claim_next', CLAIM_SQL)
type ClaimedRow = TaskRow & { reap_first: boolean; run_attempt: number }

/**
 * Leases the role's best claimable task (priority, then age, then id) to the agent, or returns null, inside
 * the caller's transaction. With per-stage limits, the count of live leases and the claim must not
 * interleave with another node's: the transaction first takes a transaction-level advisory lock per limited
 * (pipeline, stage) of the role (in one order, so two claimers never deadlock), and the claim's statement
 * then reads every claim committed before it. With `reapDue`, a claim that finds a lease due reaps first
 * (reapDue, in this transaction) and claims again. Round trips: one; with limits, two; after a due lease,
 * those of reapDue and one more. Without limits, and first in its transaction, the claim runs alone
 * (no BEGIN or COMMIT: tx.ts).
 */
export async function claimNext(tx: Tx, req: ClaimRequest, nowMs: number, reapDue?: () => Promise<Reaped>): Promise<{ claim: Claim | null; reaped: Reaped }> {
  const { token, hash } = issueLeaseToken()
  const runId = newId(nowMs)
  const params = claimParams(req, nowMs, runId, hash, reapDue !== undefined)
  if ((params[6] as string[]).length > 0) await stageLocks.run(tx, [req.role, params[6]])
  // Alone (tx.ts) when it is the change's first statement: it is then its last too, or, when a lease is
  // due, it has written nothing.
  const [row] = (await claimStatement.alone(tx, params)).rows
  if (!row!.reap_first) return { claim: claimed(row!, req, params, token), reaped: NOTHING_REAPED }
  const reaped = await reapDue!()
  params[8] = false
  return { claim: claimed((await claimStatement.one(tx, params))!, req, params, token), reaped }
}

function claimed(row: ClaimedRow, req: ClaimRequest, params: unknown[], token: string): Claim | null {
  if (row.id === null) return null
  const { run_attempt: attempt, reap_first: _reapFirst, ...task } = row
  const nowMs = params[2] as number
  const run = leasedRun(req, { id: params[3] as string, taskId: task.id, attempt, tokenHash: params[4] as Buffer, nowMs })
  return { task, run, token }
}
