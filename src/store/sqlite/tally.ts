import type { Db } from './db.ts'
import type { PlaceCount, TaskTally } from '../types.ts'

// At most this many priority levels of one stage are looked at for its oldest claimable task (one index
// seek each); a stage with more reports the oldest among its highest 64 levels.
export const OLDEST_PRIORITY_LEVELS = 64

export type TallyStore = ReturnType<typeof createTallyStore>

/** What /metrics reads of tasks: the trigger-kept counts and small indexes, never a scan of every task. */
export function createTallyStore(db: Db) {
  const counts = db.prepare<[], TaskTally['counts'][number]>(`
    SELECT c.pipeline_id, p.name AS pipeline, c.stage, c.state, c.count FROM task_counts c JOIN pipelines p ON p.id = c.pipeline_id
    WHERE c.count > 0`)
  // Live leases are as many as agents at work; a leased task is counted open by the triggers.
  const leased = db.prepare<[], PlaceCount>(`
    SELECT t.pipeline_id, t.stage, count(*) AS count FROM runs r INDEXED BY runs_live_leases JOIN tasks t ON t.id = r.task_id
    WHERE r.lease_expires_at_ms IS NOT NULL AND t.active_run_id = r.id AND t.dead_letter_reason IS NULL AND t.open_dependencies = 0
    GROUP BY t.pipeline_id, t.stage`)
  const delayed = db.prepare<[number], PlaceCount>(`
    SELECT pipeline_id, stage, count(*) AS count FROM tasks INDEXED BY tasks_delayed
    WHERE next_eligible_at_ms > +? AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0
      AND next_eligible_at_ms > updated_at_ms
    GROUP BY pipeline_id, stage`)
  // Skip-scan of tasks_claimable: the priority levels of the stage, highest first (one seek each), then the
  // first eligible task of each level in created order; the oldest of those is the stage's oldest.
  const oldest = db.prepare<Record<string, unknown>, number | null>(`
    WITH RECURSIVE levels (priority, n) AS (
      SELECT (SELECT max(priority) FROM tasks INDEXED BY tasks_claimable WHERE pipeline_id = +@pipeline_id AND stage = +@stage
        AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0), 1
      UNION ALL
      SELECT (SELECT max(priority) FROM tasks INDEXED BY tasks_claimable WHERE pipeline_id = +@pipeline_id AND stage = +@stage
        AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0 AND priority < levels.priority), n + 1
      FROM levels WHERE levels.priority IS NOT NULL AND n < ${OLDEST_PRIORITY_LEVELS}
    )
    SELECT min((SELECT created_at_ms FROM tasks INDEXED BY tasks_claimable WHERE pipeline_id = +@pipeline_id AND stage = +@stage
      AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0 AND priority = levels.priority
      AND next_eligible_at_ms <= +@now ORDER BY created_at_ms LIMIT 1))
    FROM levels WHERE levels.priority IS NOT NULL`).pluck()
  const claimedStages = db.prepare<[], { pipeline_id: string; stage: string }>('SELECT DISTINCT pipeline_id, stage FROM stage_roles')

  return {
    tally(nowMs: number): TaskTally {
      return {
        counts: counts.all(),
        leased: leased.all(),
        delayed: delayed.all(nowMs),
        oldest: claimedStages.all().map((s) => ({ ...s, created_at_ms: oldest.get({ ...s, now: nowMs }) ?? null })),
      }
    },
  }
}
