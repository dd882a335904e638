// Queue statistics (/ops/queue) and /health counts. (PostgreSQL driver)
import type pg from 'pg'
import type { PgContext } from './context.ts'
import { statement } from './sql.ts'
import type { Reads } from '../driver.ts'
import type { RoleQueueStats } from '../types.ts'

// The SQLite driver's queries (src/store/sqlite/ops.ts) in one statement: per (pipeline, stage) of a role,
// its claimable tasks through tasks_claimable (assignments and concurrency aside, as in R§19) and the
// failed runs of its tasks (each task's runs by (task_id, attempt): OFFSET 0 keeps the planner from
// scanning every run for the few failed ones instead, as it would with no index on status); live leases
// through runs_live_leases; dead letters through tasks_dead_lettered,
// each counted for the role of the run that used up the last attempt. Roles come in the order of their
// first (pipeline, stage), as SQLite lists them. $1 now, $2 stuck before, $3 near-expiry until.
const queue = statement<RoleQueueStats>('ops_queue', `
WITH pairs AS (
  SELECT agent_role, pipeline_id, stage, row_number() OVER (ORDER BY pipeline_id, stage) AS pos FROM stage_roles
), per_pair AS (
  SELECT p.agent_role, p.pos, c.n, c.oldest, f.n AS failed FROM pairs p
  CROSS JOIN LATERAL (
    SELECT count(*) AS n, min(created_at_ms) AS oldest FROM tasks t
    WHERE t.pipeline_id = p.pipeline_id AND t.stage = p.stage AND t.dead_letter_reason IS NULL
      AND t.active_run_id IS NULL AND t.open_dependencies = 0 AND t.next_eligible_at_ms <= $1) c
  CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM tasks t
    CROSS JOIN LATERAL (SELECT FROM runs r WHERE r.task_id = t.id AND r.status = 'failed' OFFSET 0) r
    WHERE t.pipeline_id = p.pipeline_id AND t.stage = p.stage) f
), roles AS (
  SELECT agent_role, min(pos) AS pos, sum(n)::bigint AS claimable, min(oldest) AS oldest, sum(failed)::bigint AS failed
  FROM per_pair GROUP BY agent_role
), live AS (
  SELECT agent_role, count(*) AS running, count(*) FILTER (WHERE started_at_ms <= $2) AS stuck,
    count(*) FILTER (WHERE lease_expires_at_ms > $1 AND lease_expires_at_ms <= $3) AS near
  FROM runs WHERE lease_expires_at_ms IS NOT NULL GROUP BY agent_role
), dead AS (
  SELECT r.agent_role, count(*) AS n FROM tasks t
  JOIN runs r ON r.task_id = t.id AND r.attempt = (SELECT max(attempt) FROM runs WHERE task_id = t.id)
  WHERE t.dead_letter_reason = 'max_attempts_exceeded' GROUP BY r.agent_role
)
SELECT r.agent_role AS role, r.claimable AS claimable_count, $1 - r.oldest AS oldest_claimable_age_ms,
  r.failed AS failed_count, coalesce(l.stuck, 0) AS stuck_count, coalesce(l.near, 0) AS near_expiry_leases,
  coalesce(l.running, 0) AS running_count, coalesce(d.n, 0) AS dead_letter_count
FROM roles r LEFT JOIN live l USING (agent_role) LEFT JOIN dead d USING (agent_role)
ORDER BY r.pos`)

// /health reads only the stage counters (16 shards a stage: schema.postgres.sql) and the live-lease index:
// its cost does not grow with the number of tasks.
const stages = statement<{ stage: string; count: number }>('ops_stage_counts', `
  SELECT stage, sum(count)::bigint AS count FROM stage_counts GROUP BY stage HAVING sum(count) > 0 ORDER BY stage`)
const activeLeases = statement<{ n: number }>('ops_active_leases', 'SELECT count(*) AS n FROM runs WHERE lease_expires_at_ms > $1')

export function opsReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'queue' | 'health'> {
  void ctx
  return {
    queue: (nowMs, nearExpiryMs, stuckMs) => queue.all(pool, [nowMs, nowMs - stuckMs, nowMs + nearExpiryMs]),
    async health(nowMs) {
      const [tasksByStage, leases] = await Promise.all([stages.all(pool), activeLeases.one(pool, [nowMs])])
      return { tasks_by_stage: tasksByStage, active_leases: leases!.n }
    },
  }
}
