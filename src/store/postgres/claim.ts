// The claim: the best claimable task of a role leased to an agent, in one statement and one round trip —
// the task row locked (FOR UPDATE SKIP LOCKED, so concurrent claimers on any node step over each other's
// rows instead of waiting), its run inserted, the task marked as held, all committed together.
import type pg from 'pg'
import type { Claim, ClaimRequest, RunRow, TaskRow } from '../types.ts'
import { newId } from '../../domain/ids.ts'
import { issueLeaseToken } from '../../domain/token.ts'

type Db = pg.Pool | pg.PoolClient

// Per (pipeline, stage) of the role: one ordered search of the partial index tasks_claimable, LIMIT 1 FOR
// UPDATE SKIP LOCKED (the LATERAL is the fence that keeps the planner from locking more than that row);
// then the best of those few candidates. The claimability conditions sit beside FOR UPDATE on purpose: a
// row changed by a claimer that committed after this statement's snapshot is re-checked against them once
// locked (EvalPlanQual), so a task just taken elsewhere is dropped, never handed out twice.
// A role that spans several stages locks one candidate per stage for the statement's few hundred
// microseconds; a concurrent claimer skips those, so it can find nothing while one of them is about to be
// unlocked untaken. That is a delay, not a loss: the long-poll re-check finds it.
// $7/$8: per-stage limits on live leases (stage names and limits; a limit ≤ 0 means none), counted from the
// stage's held tasks (index tasks_held: a live lease is always its task's active run). The count is exact
// only under the stage locks claimNext takes first (lockStages); see there.
export const CLAIM_SQL = `
WITH next AS (
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
  WHERE r.agent_role = $1
    AND (coalesce((SELECT l.max FROM unnest($7::text[], $8::bigint[]) l (stage, max) WHERE l.stage = r.stage), 0) <= 0
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
SELECT next.*, run.attempt AS run_attempt FROM next, run`

/** The parameters of CLAIM_SQL for a request (exported for the EXPLAIN test). */
export function claimParams(req: ClaimRequest, nowMs: number, runId: string, tokenHash: Buffer): unknown[] {
  const limited = Object.entries(req.perState).filter(([, max]) => max > 0)
  return [req.role, req.agentId, nowMs, runId, tokenHash, req.ttlMs, limited.map(([s]) => s), limited.map(([, max]) => max)]
}

/**
 * Leases the role's best claimable task (priority, then age, then id) to the agent, or returns null. With
 * per-stage limits, the count of live leases and the claim must not interleave with another node's: the
 * claim runs in a transaction that first takes a transaction-level advisory lock per limited (pipeline,
 * stage) of the role (in one order, so two claimers never deadlock), and its statement then reads every
 * claim committed before it. Without limits it is the one statement.
 */
export async function claimNext(pool: pg.Pool, req: ClaimRequest, nowMs: number): Promise<Claim | null> {
  const { token, hash } = issueLeaseToken()
  const params = claimParams(req, nowMs, newId(nowMs), hash)
  if ((params[6] as string[]).length === 0) return claimed(await pool.query(CLAIM_SQL, params), req, params, token)
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await lockStages(client, req.role, params[6] as string[])
    const result = await client.query(CLAIM_SQL, params)
    await client.query('COMMIT')
    return claimed(result, req, params, token)
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    client.release()
  }
}

// Lock key space for stage locks: the two-int4 form, so it can never collide with the bigint
// MIGRATION_LOCK (PostgreSQL keeps the two forms apart).
const STAGE_LOCK_SPACE = 0x646f6373

/** Serializes claims on the role's (pipeline, stage) pairs among `stages`, until the transaction ends. */
export async function lockStages(db: Db, role: string, stages: string[]): Promise<void> {
  await db.query(`
    SELECT pg_advisory_xact_lock(${STAGE_LOCK_SPACE}, hashtext(pipeline_id || E'\\n' || stage))
    FROM (SELECT pipeline_id, stage FROM stage_roles WHERE agent_role = $1 AND stage = ANY($2::text[])
          ORDER BY hashtext(pipeline_id || E'\\n' || stage)) pairs`, [role, stages])
}

function claimed(result: pg.QueryResult, req: ClaimRequest, params: unknown[], token: string): Claim | null {
  if (result.rows.length === 0) return null
  const { run_attempt: attempt, ...task } = result.rows[0] as TaskRow & { run_attempt: number }
  const nowMs = params[2] as number
  const run: RunRow = {
    id: params[3] as string,
    task_id: task.id,
    attempt,
    status: 'running',
    agent_id: req.agentId,
    agent_role: req.role,
    started_at_ms: nowMs,
    ended_at_ms: null,
    usage_json: '{}',
    error_text: null,
    lease_token_hash: params[4] as Buffer,
    lease_ttl_ms: req.ttlMs,
    lease_expires_at_ms: nowMs + req.ttlMs,
    last_heartbeat_ms: nowMs,
  }
  return { task, run, token }
}
