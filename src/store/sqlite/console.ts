// What the console (/ui) reads beyond the API's reads: each from an index, none a scan of every task.
import type { Db } from './db.ts'
import type { LeaseView, StageOverview, TaskRow, ThroughputMinute, TimeCursor } from '../types.ts'

type Place = { pipeline_id: string; stage: string }
type Counted = Place & { n: number }

export type ConsoleStore = ReturnType<typeof createConsoleStore>

export function createConsoleStore(db: Db) {
  const pairs = db.prepare<[], Place>('SELECT DISTINCT pipeline_id, stage FROM stage_roles ORDER BY pipeline_id, stage')
  // The claim index's range of one (pipeline, stage), as /ops/queue counts it; delayed = not yet eligible.
  const open = db.prepare<Record<string, unknown>, { claimable: number; delayed: number; oldest: number | null }>(`
    SELECT coalesce(sum(next_eligible_at_ms <= @now), 0) AS claimable, coalesce(sum(next_eligible_at_ms > @now), 0) AS delayed,
      min(CASE WHEN next_eligible_at_ms <= @now THEN created_at_ms END) AS oldest
    FROM tasks INDEXED BY tasks_claimable
    WHERE pipeline_id = @pipeline_id AND stage = @stage
      AND dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0`)
  const blocked = db.prepare<[], Counted>(`
    SELECT pipeline_id, stage, count(*) AS n FROM tasks INDEXED BY tasks_blocked
    WHERE open_dependencies > 0 AND dead_letter_reason IS NULL AND active_run_id IS NULL GROUP BY pipeline_id, stage`)
  const leased = db.prepare<[], Counted>(`
    SELECT t.pipeline_id, t.stage, count(*) AS n FROM runs r JOIN tasks t ON t.id = r.task_id
    WHERE r.lease_expires_at_ms IS NOT NULL GROUP BY t.pipeline_id, t.stage`)
  const dead = db.prepare<[], Counted>(`
    SELECT pipeline_id, stage, count(*) AS n FROM tasks INDEXED BY tasks_dead_lettered
    WHERE dead_letter_reason = 'max_attempts_exceeded' GROUP BY pipeline_id, stage`)
  const ended = db.prepare<[number], ThroughputMinute>(`
    SELECT (ended_at_ms / 60000) * 60000 AS minute_ms, sum(status = 'completed') AS completed,
      sum(status IN ('failed', 'stale')) AS failed
    FROM runs INDEXED BY runs_ended WHERE ended_at_ms >= +? GROUP BY 1 ORDER BY 1`)
  const expiring = db.prepare<Record<string, unknown>, LeaseView>(`
    SELECT r.id AS run_id, r.task_id, t.title, t.pipeline_id, t.stage, r.agent_id, r.agent_role, r.lease_expires_at_ms
    FROM runs r JOIN tasks t ON t.id = r.task_id
    WHERE r.lease_expires_at_ms > +@now AND r.lease_expires_at_ms <= +@until ORDER BY r.lease_expires_at_ms LIMIT +@limit`)
  const dependents = db.prepare<[string], string>(
    'SELECT task_id FROM task_dependencies WHERE depends_on_task_id = +? ORDER BY rowid').pluck()
  const deadFirst = db.prepare<[number], TaskRow>(`
    SELECT * FROM tasks INDEXED BY tasks_dead_lettered WHERE dead_letter_reason = 'max_attempts_exceeded'
    ORDER BY created_at_ms, id LIMIT +?`)
  const deadAfter = db.prepare<Record<string, unknown>, TaskRow>(`
    SELECT * FROM tasks INDEXED BY tasks_dead_lettered WHERE dead_letter_reason = 'max_attempts_exceeded'
      AND (created_at_ms > +@after_ms OR (created_at_ms = +@after_ms AND id > +@after_id))
    ORDER BY created_at_ms, id LIMIT +@limit`)
  // One index seek per namespace: the store's (namespace, key) index skipped from name to name.
  const nextNamespace = db.prepare<[string], string>(
    'SELECT namespace FROM store WHERE namespace > +? ORDER BY namespace LIMIT 1').pluck()

  return {
    stageOverview(nowMs: number): StageOverview[] {
      const rows = new Map<string, StageOverview>()
      const row = (p: Place): StageOverview => {
        const key = `${p.pipeline_id}\u0000${p.stage}`
        let r = rows.get(key)
        if (r === undefined) {
          r = { pipeline_id: p.pipeline_id, stage: p.stage, claimable: 0, delayed: 0, blocked: 0, leased: 0, dead_lettered: 0, oldest_claimable_at_ms: null }
          rows.set(key, r)
        }
        return r
      }
      for (const p of pairs.all()) {
        const c = open.get({ ...p, now: nowMs })!
        Object.assign(row(p), { claimable: c.claimable, delayed: c.delayed, oldest_claimable_at_ms: c.oldest })
      }
      for (const b of blocked.all()) row(b).blocked = b.n
      for (const l of leased.all()) row(l).leased = l.n
      for (const d of dead.all()) row(d).dead_lettered = d.n
      return [...rows.values()].sort((a, b) => compare(a.pipeline_id, b.pipeline_id) || compare(a.stage, b.stage))
    },
    throughput: (sinceMs: number) => ended.all(sinceMs),
    leasesExpiring: (nowMs: number, untilMs: number, limit: number) => expiring.all({ now: nowMs, until: untilMs, limit }),
    dependents: (taskId: string) => dependents.all(taskId),
    deadLetters(after: TimeCursor | null, limit: number): TaskRow[] {
      return after === null ? deadFirst.all(limit + 1) : deadAfter.all({ after_ms: after.createdAtMs, after_id: after.id, limit: limit + 1 })
    },
    namespaces(after: string | null, limit: number): string[] {
      const names: string[] = []
      let last = after ?? ''
      while (names.length < limit) {
        const next = nextNamespace.get(last)
        if (next === undefined) break
        names.push(next)
        last = next
      }
      return names
    },
  }
}

/** Byte order of UTF-8 text, as both databases sort these columns (BINARY, COLLATE "C"). */
function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}
