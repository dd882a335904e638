import type { Db } from './db.ts'
import type { RoleQueueStats } from '../types.ts'

export type OpsStore = ReturnType<typeof createOpsStore>

export function createOpsStore(db: Db) {
  const pairs = db.prepare<[], { agent_role: string; pipeline_id: string; stage: string }>(
    'SELECT agent_role, pipeline_id, stage FROM stage_roles ORDER BY pipeline_id, stage',
  )
  // Same conditions as the claim index (assignments and concurrency aside, as in R§19).
  const claimable = db.prepare<Record<string, unknown>, { n: number; oldest: number | null }>(`
    SELECT count(*) AS n, min(created_at_ms) AS oldest FROM tasks INDEXED BY tasks_claimable
    WHERE pipeline_id = @pipeline_id AND stage = @stage
      AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0
      AND next_eligible_at_ms <= @now`)
  const failedRuns = db.prepare<Record<string, unknown>, number>(`
    SELECT count(*) FROM tasks t JOIN runs r ON r.task_id = t.id
    WHERE t.stage = @stage AND t.pipeline_id = @pipeline_id AND r.status = 'failed'`).pluck()
  const live = db.prepare<Record<string, unknown>, { agent_role: string; running: number; stuck: number; near: number }>(`
    SELECT agent_role, count(*) AS running,
      sum(started_at_ms <= @stuck_before) AS stuck,
      sum(lease_expires_at_ms > @now AND lease_expires_at_ms <= @near_until) AS near
    FROM runs WHERE lease_expires_at_ms IS NOT NULL GROUP BY agent_role`)
  // A dead letter is counted for the role of the run that used up the last attempt.
  const deadLetters = db.prepare<[], { agent_role: string; n: number }>(`
    SELECT r.agent_role, count(*) AS n FROM tasks t
    JOIN runs r ON r.task_id = t.id AND r.attempt = (SELECT max(attempt) FROM runs WHERE task_id = t.id)
    WHERE t.dead_letter_reason = 'max_attempts_exceeded' GROUP BY r.agent_role`)

  return {
    queue(nowMs: number, nearExpiryMs: number, stuckMs: number): RoleQueueStats[] {
      const roles = new Map<string, RoleQueueStats>()
      const oldest = new Map<string, number>()
      for (const p of pairs.all()) {
        let s = roles.get(p.agent_role)
        if (s === undefined) {
          s = { role: p.agent_role, claimable_count: 0, oldest_claimable_age_ms: null, failed_count: 0, stuck_count: 0, near_expiry_leases: 0, running_count: 0, dead_letter_count: 0 }
          roles.set(p.agent_role, s)
        }
        const c = claimable.get({ pipeline_id: p.pipeline_id, stage: p.stage, now: nowMs })!
        s.claimable_count += c.n
        if (c.oldest !== null) oldest.set(s.role, Math.min(oldest.get(s.role) ?? c.oldest, c.oldest))
        s.failed_count += failedRuns.get({ pipeline_id: p.pipeline_id, stage: p.stage })!
      }
      for (const [role, createdAt] of oldest) roles.get(role)!.oldest_claimable_age_ms = nowMs - createdAt
      for (const l of live.all({ now: nowMs, stuck_before: nowMs - stuckMs, near_until: nowMs + nearExpiryMs })) {
        const s = roles.get(l.agent_role)
        if (s === undefined) continue
        Object.assign(s, { running_count: l.running, stuck_count: l.stuck, near_expiry_leases: l.near })
      }
      for (const d of deadLetters.all()) {
        const s = roles.get(d.agent_role)
        if (s !== undefined) s.dead_letter_count = d.n
      }
      return [...roles.values()]
    },
  }
}
