// What the console (/ui) reads beyond the API's reads: each from an index, none a scan of every task.
// (PostgreSQL driver; the SQLite driver's src/store/sqlite/console.ts answers the same.)
import type pg from 'pg'
import { statement } from './sql.ts'
import type { Reads } from '../driver.ts'
import type { LeaseView, StageOverview, TaskRow, ThroughputMinute } from '../types.ts'
import { TASK_COLUMNS } from './tasks.ts'

// Per (pipeline, stage) of a role: the claim index's range as /ops/queue counts it (delayed = not yet
// eligible), then tasks_blocked, tasks_held and tasks_dead_lettered, each grouped. A stage no role claims
// from shows up only if it holds such tasks (a dead-letter stage). $1 now.
const overview = statement<StageOverview>('console_overview', `
WITH open AS (
  SELECT p.pipeline_id, p.stage, c.claimable, c.delayed, c.oldest
  FROM (SELECT DISTINCT pipeline_id, stage FROM stage_roles) p
  CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE t.next_eligible_at_ms <= $1) AS claimable,
      count(*) FILTER (WHERE t.next_eligible_at_ms > $1) AS delayed,
      min(t.created_at_ms) FILTER (WHERE t.next_eligible_at_ms <= $1) AS oldest
    FROM tasks t WHERE t.pipeline_id = p.pipeline_id AND t.stage = p.stage
      AND t.dead_letter_reason IS NULL AND t.active_run_id IS NULL AND t.open_dependencies = 0) c
), blocked AS (
  SELECT pipeline_id, stage, count(*) AS n FROM tasks
  WHERE open_dependencies > 0 AND dead_letter_reason IS NULL AND active_run_id IS NULL GROUP BY pipeline_id, stage
), leased AS (
  SELECT pipeline_id, stage, count(*) AS n FROM tasks WHERE active_run_id IS NOT NULL GROUP BY pipeline_id, stage
), dead AS (
  SELECT pipeline_id, stage, count(*) AS n FROM tasks
  WHERE dead_letter_reason = 'max_attempts_exceeded' GROUP BY pipeline_id, stage
)
SELECT pipeline_id, stage, coalesce(open.claimable, 0) AS claimable, coalesce(open.delayed, 0) AS delayed,
  coalesce(blocked.n, 0) AS blocked, coalesce(leased.n, 0) AS leased, coalesce(dead.n, 0) AS dead_lettered,
  open.oldest AS oldest_claimable_at_ms
FROM open FULL JOIN blocked USING (pipeline_id, stage) FULL JOIN leased USING (pipeline_id, stage)
  FULL JOIN dead USING (pipeline_id, stage)
ORDER BY pipeline_id, stage`)

const ended = statement<ThroughputMinute>('console_throughput', `
  SELECT (ended_at_ms / 60000) * 60000 AS minute_ms, count(*) FILTER (WHERE status = 'completed') AS completed,
    count(*) FILTER (WHERE status IN ('failed', 'stale')) AS failed
  FROM runs WHERE ended_at_ms >= $1 GROUP BY 1 ORDER BY 1`)

const expiring = statement<LeaseView>('console_leases_expiring', `
  SELECT r.id AS run_id, r.task_id, t.title, t.pipeline_id, t.stage, r.agent_id, r.agent_role, r.lease_expires_at_ms
  FROM runs r JOIN tasks t ON t.id = r.task_id
  WHERE r.lease_expires_at_ms > $1 AND r.lease_expires_at_ms <= $2 ORDER BY r.lease_expires_at_ms LIMIT $3`)

const dependents = statement<{ task_id: string }>('console_dependents',
  'SELECT task_id FROM task_dependencies WHERE depends_on_task_id = $1 ORDER BY seq')

const deadFirst = statement<TaskRow>('console_dead_first', `
  SELECT ${TASK_COLUMNS} FROM tasks WHERE dead_letter_reason = 'max_attempts_exceeded'
  ORDER BY created_at_ms, id LIMIT $1`)
const deadAfter = statement<TaskRow>('console_dead_after', `
  SELECT ${TASK_COLUMNS} FROM tasks WHERE dead_letter_reason = 'max_attempts_exceeded'
    AND (created_at_ms, id) > ($2, $3)
  ORDER BY created_at_ms, id LIMIT $1`)

// One index seek per namespace: the store's (namespace, key) index skipped from name to name.
const nextNamespace = statement<{ namespace: string }>('console_next_namespace',
  'SELECT namespace FROM store WHERE namespace > $1 ORDER BY namespace LIMIT 1')

type ConsoleReads = Pick<Reads, 'stageOverview' | 'throughput' | 'leasesExpiring' | 'dependents' | 'deadLetters' | 'namespaces'>

export function consoleReads(pool: pg.Pool): ConsoleReads {
  return {
    stageOverview: (nowMs) => overview.all(pool, [nowMs]),
    throughput: (sinceMs) => ended.all(pool, [sinceMs]),
    leasesExpiring: (nowMs, untilMs, limit) => expiring.all(pool, [nowMs, untilMs, limit]),
    dependents: async (taskId) => (await dependents.all(pool, [taskId])).map((r) => r.task_id),
    deadLetters: (after, limit) =>
      after === null ? deadFirst.all(pool, [limit + 1]) : deadAfter.all(pool, [limit + 1, after.createdAtMs, after.id]),
    async namespaces(after, limit) {
      const names: string[] = []
      let last = after ?? ''
      while (names.length < limit) {
        const next = await nextNamespace.one(pool, [last])
        if (next === undefined) break
        names.push(next.namespace)
        last = next.namespace
      }
      return names
    },
  }
}
