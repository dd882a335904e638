import type { Db } from './db.ts'
import { newId } from '../../domain/ids.ts'
import { issueLeaseToken } from '../../domain/token.ts'
import type { Claim, ClaimRequest, RunRow, TaskRow } from '../types.ts'
import { leasedRun } from '../leased-run.ts'

export type LeaseStore = ReturnType<typeof createLeaseStore>

export function createLeaseStore(db: Db) {
  const rolePairs = db.prepare<[string], { pipeline_id: string; stage: string }>(`
    SELECT r.pipeline_id, r.stage FROM stage_roles r JOIN pipelines p ON p.id = r.pipeline_id
    WHERE r.agent_role = +? AND p.paused = 0 ORDER BY r.pipeline_id, r.stage`)
  // One ordered search of the partial claim index per (pipeline, stage); the first row is the answer.
  const candidate = db.prepare<Record<string, unknown>, TaskRow>(`
    SELECT * FROM tasks INDEXED BY tasks_claimable
    WHERE pipeline_id = +@pipeline_id AND stage = +@stage
      AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0
      AND next_eligible_at_ms <= +@now AND (assignee IS NULL OR assignee = +@agent_id)
    ORDER BY priority DESC, created_at_ms, id LIMIT 1`)
  // Who could take the role's claimable work, from its first 256 tasks in claim order: NULL stands for
  // "anyone" (an unassigned task). A sample on purpose: a long-poll drain only needs to know whether to try
  // the other waiters, and whom, and must not scan a long queue to find out.
  const claimableBy = db.prepare<Record<string, unknown>, string | null>(`
    SELECT assignee FROM tasks INDEXED BY tasks_claimable
    WHERE pipeline_id = +@pipeline_id AND stage = +@stage
      AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0
      AND next_eligible_at_ms <= +@now
    ORDER BY priority DESC, created_at_ms, id LIMIT 256`).pluck()
  const liveInStage = db.prepare<Record<string, unknown>, number>(`
    SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id
    WHERE r.lease_expires_at_ms > +@now AND t.pipeline_id = +@pipeline_id AND t.stage = +@stage`).pluck()
  const lastAttempt = db.prepare<[string], number | null>('SELECT max(attempt) FROM runs WHERE task_id = +?').pluck()
  const insertRun = db.prepare(`
    INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash,
      lease_ttl_ms, lease_expires_at_ms, last_heartbeat_ms)
    VALUES (@id, @task_id, @attempt, 'running', @agent_id, @agent_role, @now, @hash, @ttl, @expires, @now)`)
  const holdTask = db.prepare('UPDATE tasks SET active_run_id = ? WHERE id = ?')
  const extend = db.prepare('UPDATE runs SET lease_expires_at_ms = ?, last_heartbeat_ms = ? WHERE id = ?')
  const rotate = db.prepare('UPDATE runs SET lease_token_hash = ? WHERE id = ?')

  return {
    /** Picks the best claimable task for a role (priority, then age, then id) and leases it to the agent. */
    claimNext(req: ClaimRequest, nowMs: number): Claim | null {
      let best: TaskRow | undefined
      for (const pair of rolePairs.all(req.role)) {
        if (req.pipelineId != null && pair.pipeline_id !== req.pipelineId) continue
        const limit = req.perState[pair.stage]
        if (limit > 0 && liveInStage.get({ ...pair, now: nowMs })! >= limit) continue
        const task = candidate.get({ ...pair, now: nowMs, agent_id: req.agentId })
        if (task !== undefined && (best === undefined || ranksBefore(task, best))) best = task
      }
      if (best === undefined) return null
      const { token, hash } = issueLeaseToken()
      const run = leasedRun(req, { id: newId(nowMs), taskId: best.id, attempt: (lastAttempt.get(best.id) ?? 0) + 1, tokenHash: hash, nowMs })
      insertRun.run({
        id: run.id, task_id: run.task_id, attempt: run.attempt, agent_id: run.agent_id, agent_role: run.agent_role,
        now: nowMs, hash, ttl: req.ttlMs, expires: run.lease_expires_at_ms,
      })
      holdTask.run(run.id, best.id)
      return { task: best, run, token }
    },

    /**
     * Who could claim the role's claimable work right now (concurrency limits aside): `anyone` when one of
     * its first tasks is unassigned, else their assignees.
     */
    claimableBy(role: string, nowMs: number): { anyone: boolean; agents: Set<string> } {
      const agents = new Set<string>()
      for (const pair of rolePairs.all(role)) {
        for (const assignee of claimableBy.all({ ...pair, now: nowMs })) {
          if (assignee === null) return { anyone: true, agents }
          agents.add(assignee)
        }
      }
      return { anyone: false, agents }
    },

    /** Extends a live lease by `ttlMs` from now; returns the new expiry. */
    heartbeat(run: RunRow, ttlMs: number, nowMs: number): number {
      const expires = nowMs + ttlMs
      extend.run(expires, nowMs, run.id)
      return expires
    },

    /** Issues a new token for a run's lease; the previous one stops working (claim replays). */
    rotateToken(runId: string): string {
      const { token, hash } = issueLeaseToken()
      rotate.run(hash, runId)
      return token
    },
  }
}

function ranksBefore(a: TaskRow, b: TaskRow): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority
  if (a.created_at_ms !== b.created_at_ms) return a.created_at_ms < b.created_at_ms
  return a.id < b.id
}
