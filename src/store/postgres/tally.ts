// What /metrics reads of tasks, and GET /ready's check. (PostgreSQL driver; SQLite's: src/store/sqlite/tally.ts)
import type pg from 'pg'
import { statement } from './sql.ts'
import { loadMigrations, schemaVersion } from './migrate.ts'
import type { Reads } from '../driver.ts'
import type { PlaceCount, TaskTally } from '../types.ts'

// As on SQLite: at most this many priority levels of a stage are looked at for its oldest claimable task.
const OLDEST_PRIORITY_LEVELS = 64

// The trigger-kept counts (16 shards a place: schema.postgres.sql migration 4), summed.
const counts = statement<TaskTally['counts'][number]>('tally_counts', `
  SELECT c.pipeline_id, p.name AS pipeline, c.stage, c.state, sum(c.count)::bigint AS count
  FROM task_counts c JOIN pipelines p ON p.id = c.pipeline_id
  GROUP BY c.pipeline_id, p.name, c.stage, c.state HAVING sum(c.count) > 0`)
// Held tasks, as many as agents at work (a leased task is counted open by the triggers), per stage a role
// claims from (no other stage holds one): through tasks_held by (pipeline, stage), as the claim counts them.
// Grouped over all tasks instead, a planner without statistics (a freshly filled table) read every task.
const leased = statement<PlaceCount>('tally_leased', `
  SELECT s.pipeline_id, s.stage, h.count FROM (SELECT DISTINCT pipeline_id, stage FROM stage_roles) s
  CROSS JOIN LATERAL (
    SELECT count(*) AS count FROM tasks t WHERE t.pipeline_id = s.pipeline_id AND t.stage = s.stage
      AND t.active_run_id IS NOT NULL AND t.dead_letter_reason IS NULL AND t.open_dependencies = 0) h
  WHERE h.count > 0`)
const delayed = statement<PlaceCount>('tally_delayed', `
  SELECT pipeline_id, stage, count(*) AS count FROM tasks
  WHERE next_eligible_at_ms > $1 AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0
    AND next_eligible_at_ms > updated_at_ms
  GROUP BY pipeline_id, stage`)
// Skip-scan of tasks_claimable per (pipeline, stage) a role claims from: its priority levels, highest first
// (one index probe each), then the first eligible task of each level in created order.
const oldest = statement<TaskTally['oldest'][number]>('tally_oldest', `
  WITH RECURSIVE places AS (SELECT DISTINCT pipeline_id, stage FROM stage_roles),
  levels (pipeline_id, stage, priority, n) AS (
    SELECT s.pipeline_id, s.stage, (SELECT max(priority) FROM tasks t WHERE t.pipeline_id = s.pipeline_id AND t.stage = s.stage
      AND t.dead_letter_reason IS NULL AND t.active_run_id IS NULL AND t.open_dependencies = 0), 1
    FROM places s
    UNION ALL
    SELECT l.pipeline_id, l.stage, (SELECT max(priority) FROM tasks t WHERE t.pipeline_id = l.pipeline_id AND t.stage = l.stage
      AND t.dead_letter_reason IS NULL AND t.active_run_id IS NULL AND t.open_dependencies = 0 AND t.priority < l.priority), l.n + 1
    FROM levels l WHERE l.priority IS NOT NULL AND l.n < ${OLDEST_PRIORITY_LEVELS}
  )
  SELECT l.pipeline_id, l.stage, min(f.created_at_ms) AS created_at_ms FROM levels l
  LEFT JOIN LATERAL (
    SELECT t.created_at_ms FROM tasks t WHERE t.pipeline_id = l.pipeline_id AND t.stage = l.stage
      AND t.dead_letter_reason IS NULL AND t.active_run_id IS NULL AND t.open_dependencies = 0 AND t.priority = l.priority
      AND t.next_eligible_at_ms <= $1
    ORDER BY t.priority DESC, t.created_at_ms LIMIT 1) f ON true
  GROUP BY l.pipeline_id, l.stage`)

export function tallyReads(pool: pg.Pool): Pick<Reads, 'taskTally' | 'readiness'> {
  const latest = loadMigrations().length
  return {
    async taskTally(nowMs) {
      const [c, l, d, o] = await Promise.all([counts.all(pool), leased.all(pool), delayed.all(pool, [nowMs]), oldest.all(pool, [nowMs])])
      return { counts: c, leased: l, delayed: d, oldest: o }
    },
    async readiness() {
      const version = await schemaVersion(pool)
      return version === latest ? { ready: true } : { ready: false, reason: `schema version ${version}, expected ${latest}` }
    },
  }
}
