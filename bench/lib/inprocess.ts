import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDb, openDb, type Db, type Durability } from '../../src/store/sqlite/db.ts'
import { createStore } from '../../src/store/sqlite/index.ts'
import { compilePipeline, DefinitionSchema, findTransition } from '../../src/domain/pipeline.ts'
import { newId } from '../../src/domain/ids.ts'
import { hashesEqual, issueLeaseToken, leaseTokenHash } from '../../src/domain/token.ts'
import * as v from 'valibot'
import { cycleDefinition } from './pipeline.ts'

const LEASE_TTL_MS = 300_000

export type InProcessResult = { cycles: number; seconds: number; cyclesPerS: number }

/**
 * The engine's own limit for Docket's claim → complete work: the same schema (openDb on a temp file), the
 * same rows and index writes a claim and a transition make, one BEGIN IMMEDIATE per claim and per
 * completion, single-threaded, no HTTP, no JSON rendering. Tasks are seeded with Docket's own task store.
 */
export function inProcessCycles(opts: { tasks: number; warmup: number; durability: Durability; deadlineMs: number }): InProcessResult {
  const dir = mkdtempSync(join(tmpdir(), 'docket-baseline-'))
  const db = openDb(join(dir, 'docket.db'), opts.durability)
  try {
    const loop = createLoop(db)
    loop.drain(loop.seed('warm', opts.warmup), opts.deadlineMs)
    const role = loop.seed('main', opts.tasks)
    const started = performance.now()
    const cycles = loop.drain(role, opts.deadlineMs)
    const seconds = (performance.now() - started) / 1000
    return { cycles, seconds, cyclesPerS: cycles / seconds }
  } finally {
    closeDb(db)
    rmSync(dir, { recursive: true, force: true })
  }
}

function createLoop(db: Db) {
  const store = createStore(db)
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commit = db.prepare('COMMIT')
  // The same SQL text as src/store (with its `+@param`s, see src/store/sqlite/db.ts), so both prepare alike.
  // Claim: the role's (pipeline, stage) pairs, then one ordered search of tasks_claimable per pair.
  const pairs = db.prepare<[string], { pipeline_id: string; stage: string }>(`
    SELECT r.pipeline_id, r.stage FROM stage_roles r JOIN pipelines p ON p.id = r.pipeline_id
    WHERE r.agent_role = +? AND p.paused = 0 ORDER BY r.pipeline_id, r.stage`)
  const candidate = db.prepare<Record<string, unknown>, Record<string, unknown> & { id: string; priority: number; created_at_ms: number }>(`
    SELECT * FROM tasks INDEXED BY tasks_claimable
    WHERE pipeline_id = +@pipeline_id AND stage = +@stage AND dead_letter_reason IS NULL AND active_run_id IS NULL
      AND open_dependencies = 0 AND next_eligible_at_ms <= +@now AND (assignee IS NULL OR assignee = +@agent_id)
    ORDER BY priority DESC, created_at_ms, id LIMIT 1`)
  // Docket reaps expired leases lazily at every claim: one probe of runs_live_leases.
  const expired = db.prepare<[number, number], unknown>('SELECT * FROM runs WHERE lease_expires_at_ms <= +? ORDER BY lease_expires_at_ms LIMIT ?')
  const lastAttempt = db.prepare<[string], number>('SELECT coalesce(max(attempt), 0) FROM runs WHERE task_id = +?').pluck()
  const insertRun = db.prepare(`
    INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash, lease_ttl_ms,
      lease_expires_at_ms, last_heartbeat_ms)
    VALUES (@id, @task_id, @attempt, 'running', @agent_id, @agent_role, @now, @hash, @ttl, @expires, @now)`)
  const lease = db.prepare('UPDATE tasks SET active_run_id = ? WHERE id = ?')
  // Complete: check the lease, move the task, close the run, write the transition event.
  const runById = db.prepare<[string], { id: string; task_id: string; status: string; lease_token_hash: Buffer; lease_expires_at_ms: number | null }>(
    'SELECT * FROM runs WHERE id = +?')
  const taskById = db.prepare<[string], { id: string; pipeline_id: string; stage: string }>('SELECT * FROM tasks WHERE id = ?')
  const closeRun = db.prepare(`UPDATE runs SET status = 'completed', ended_at_ms = @now, usage_json = '{}', lease_expires_at_ms = NULL WHERE id = @id`)
  const moveTask = db.prepare(`
    UPDATE tasks SET stage = @stage, task_version = task_version + 1, active_run_id = NULL, dead_letter_reason = NULL,
      next_eligible_at_ms = 0, updated_at_ms = @now WHERE id = @id`)
  const shiftDependents = db.prepare(`
    UPDATE tasks SET open_dependencies = open_dependencies - 1
    WHERE id IN (SELECT task_id FROM task_dependencies WHERE depends_on_task_id = +?)`)
  const insertEvent = db.prepare(`INSERT INTO events (run_id, ts_ms, kind, data_json) VALUES (?, ?, 'transition', ?)`)

  const claim = (role: string, agentId: string) => {
    const now = Date.now()
    begin.run()
    if (expired.all(now, 500).length > 0) throw new Error('baseline: no lease should expire')
    let best: ReturnType<typeof candidate.get>
    for (const p of pairs.all(role)) {
      const c = candidate.get({ ...p, now, agent_id: agentId })
      if (c !== undefined && (best === undefined || c.priority > best.priority || (c.priority === best.priority && c.created_at_ms < best.created_at_ms))) best = c
    }
    if (best === undefined) {
      commit.run()
      return null
    }
    const token = issueLeaseToken()
    const runId = newId(now)
    insertRun.run({ id: runId, task_id: best.id, attempt: lastAttempt.get(best.id)! + 1, agent_id: agentId, agent_role: role, now, hash: token.hash, ttl: LEASE_TTL_MS, expires: now + LEASE_TTL_MS })
    lease.run(runId, best.id)
    commit.run()
    return { runId, token: token.token }
  }

  const complete = (runId: string, token: string, trigger: string) => {
    const now = Date.now()
    begin.run()
    const run = runById.get(runId)!
    if (!hashesEqual(run.lease_token_hash, leaseTokenHash(token)!) || run.status !== 'running' || run.lease_expires_at_ms! <= now) {
      throw new Error(`baseline: lease of run ${runId} is not valid`)
    }
    const task = taskById.get(run.task_id)!
    const pipeline = store.pipelines.compiled(task.pipeline_id)!
    const t = findTransition(pipeline, task.stage, trigger)!
    closeRun.run({ id: runId, now })
    moveTask.run({ id: task.id, stage: t.to, now })
    if (pipeline.stages.get(t.to)?.isTerminal && !pipeline.stages.get(t.from)?.isTerminal) shiftDependents.run(task.id)
    insertEvent.run(runId, now, JSON.stringify({ trigger, from: t.from, to: t.to, instructions: t.instructions ?? '' }))
    commit.run()
  }

  return {
    /** A fresh pipeline with `count` queued tasks (seeded in one transaction, as bulk create would); returns its role. */
    seed(name: string, count: number): string {
      const role = `baseline-${name}`
      const definition = cycleDefinition(role)
      const now = Date.now()
      db.transaction(() => {
        const id = store.pipelines.create(`baseline-${name}`, definition, compilePipeline(v.parse(DefinitionSchema, definition)), now)
        for (let i = 0; i < count; i++) store.tasks.create({ pipeline_id: id, title: `task ${i}`, description: 'bench' }, now)
      }).immediate()
      return role
    },
    /** claim → complete until the role has nothing left (or the deadline); returns the cycles done. */
    drain(role: string, deadlineMs: number): number {
      const deadline = performance.now() + deadlineMs
      let cycles = 0
      for (;;) {
        const lease = claim(role, 'agent-0')
        if (lease === null) return cycles
        complete(lease.runId, lease.token, 'complete')
        cycles += 1
        if (performance.now() > deadline) return cycles
      }
    },
  }
}
