// The console overview's reads (stageOverview, throughput, leasesExpiring) at N tasks (default 1,000,000),
// in-process on both drivers: their cost must not grow with the tasks that are done. The tasks: 10 stages of
// one pipeline, and per stage 1,000 claimable, 200 delayed, 100 blocked, 20 leased and 50 dead-lettered; all
// the others are done. 3,000 runs ended in the last hour. Loaded with one INSERT … SELECT per table.
//   node bench/console-overview.ts [N] [sqlite|postgres|both]      (prints p50 and p95 of 50 reads)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { openDb, closeDb } from '../src/store/sqlite/db.ts'
import { createSqliteDriver } from '../src/store/sqlite/driver.ts'
import { openPostgresDriver } from '../src/store/postgres/driver.ts'
import { compilePipeline } from '../src/domain/pipeline.ts'
import { startCluster } from '../tests/helpers/postgres.ts'
import { systemClock } from '../src/clock.ts'
import { silentLog } from '../src/log.ts'
import type { Driver } from '../src/store/driver.ts'

const N = Number(process.argv[2] ?? 1_000_000)
const which = process.argv[3] ?? 'both'
const STAGES = 10
const NOW = systemClock.now()
const definition = {
  initial: 's0',
  states: { ...Object.fromEntries(Array.from({ length: STAGES }, (_, i) => [`s${i}`, { agent_role: `r${i}` }])), done: { terminal: true } },
  transitions: Array.from({ length: STAGES }, (_, i) => ({ from: `s${i}`, to: i + 1 < STAGES ? `s${i + 1}` : 'done', trigger: 'next' })),
}

// Row i's kind, by its position within each block of N / STAGES rows (SQL text shared by both databases).
const KIND = `CASE WHEN r % ${Math.floor(N / STAGES)} < 1000 THEN 'claimable' WHEN r % ${Math.floor(N / STAGES)} < 1200 THEN 'delayed'
  WHEN r % ${Math.floor(N / STAGES)} < 1300 THEN 'blocked' WHEN r % ${Math.floor(N / STAGES)} < 1320 THEN 'leased'
  WHEN r % ${Math.floor(N / STAGES)} < 1370 THEN 'dead' ELSE 'done' END`
const SELECT_TASKS = (pipelineId: string, series: string, fmtId: string) => `
  SELECT ${fmtId}, '${pipelineId}', CASE WHEN kind = 'done' THEN 'done' ELSE 's' || (r / ${Math.floor(N / STAGES)} % ${STAGES}) END,
    't', 'd', 0, '{}', 1, CASE WHEN kind = 'delayed' THEN ${NOW + 3_600_000} ELSE 0 END, NULL, 0, NULL,
    CASE WHEN kind = 'dead' THEN 'max_attempts_exceeded' END, 0, CASE WHEN kind = 'blocked' THEN 1 ELSE 0 END, NULL,
    CASE WHEN kind = 'leased' THEN 'run-' || r END, ${NOW - 7_200_000} + r, ${NOW - 7_200_000} + r
  FROM (SELECT r, ${KIND} AS kind FROM ${series}) k`
const TASK_COLS = 'id, pipeline_id, stage, title, description, priority, metadata_json, task_version, next_eligible_at_ms, max_attempts, retry_delay_ms, dead_letter_stage, dead_letter_reason, failed_attempts, open_dependencies, assignee, active_run_id, created_at_ms, updated_at_ms'
const RUN_COLS = 'id, task_id, attempt, status, agent_id, agent_role, started_at_ms, ended_at_ms, usage_json, error_text, lease_token_hash, lease_ttl_ms, lease_expires_at_ms, last_heartbeat_ms'

async function createPipeline(driver: Driver): Promise<string> {
  return JSON.parse((await driver.write((c) => c.createPipeline('bench', definition, compilePipeline(definition as never), NOW), {
    key: null, requestHash: Buffer.alloc(0), answer: (id) => ({ status: 201, body: JSON.stringify(id) }),
  })).body!)
}

async function measure(name: string, driver: Driver) {
  for (const [read, run] of [
    ['stageOverview', () => driver.reads.stageOverview(NOW)],
    ['throughput', () => driver.reads.throughput(NOW - 3_600_000)],
    ['leasesExpiring', () => driver.reads.leasesExpiring(NOW, NOW + 60_000, 20)],
  ] as const) {
    const times: number[] = []
    for (let i = 0; i < 55; i++) {
      const t0 = performance.now()
      await run()
      if (i >= 5) times.push(performance.now() - t0)
    }
    times.sort((a, b) => a - b)
    console.log(`${name} ${read} at ${N} tasks: p50 ${times[25].toFixed(2)} ms, p95 ${times[47].toFixed(2)} ms`)
  }
  const rows = await driver.reads.stageOverview(NOW)
  console.log(`${name} first row: ${JSON.stringify(rows[0])}`)
}

async function onSqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'docket-console-bench-'))
  const db = openDb(join(dir, 'bench.db'))
  const driver = createSqliteDriver(db, { clock: systemClock, lockTimeoutMs: 5000 })
  const pipelineId = await createPipeline(driver)
  const t0 = performance.now()
  db.exec(`INSERT INTO tasks (${TASK_COLS}) ${SELECT_TASKS(pipelineId, `(WITH RECURSIVE c(r) AS (SELECT 0 UNION ALL SELECT r + 1 FROM c WHERE r + 1 < ${N}) SELECT r FROM c)`, "printf('t%09d', r)")}`)
  db.exec(`INSERT INTO runs (${RUN_COLS}) SELECT printf('x%09d', r), printf('t%09d', r), 1, CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'completed' END, 'a', 'r0',
    ${NOW - 3_000_000}, ${NOW - 3_000_000} + r * 1000, '{}', NULL, x'00', 30000, NULL, NULL FROM (WITH RECURSIVE c(r) AS (SELECT 0 UNION ALL SELECT r + 1 FROM c WHERE r + 1 < 3000) SELECT r FROM c)`)
  db.exec('ANALYZE')
  console.log(`sqlite loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  await measure('sqlite', driver)
  await driver.close()
  closeDb(db)
  rmSync(dir, { recursive: true, force: true })
}

async function onPostgres() {
  const cluster = await startCluster()
  try {
    const url = await cluster.createDatabase()
    const driver = await openPostgresDriver({ url, poolSize: 4, clock: systemClock, log: silentLog })
    const pipelineId = await createPipeline(driver)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const t0 = performance.now()
    await client.query(`INSERT INTO tasks (${TASK_COLS}) ${SELECT_TASKS(pipelineId, `generate_series(0, ${N - 1}) AS g(r)`, "'t' || lpad(r::text, 9, '0')")}`)
    await client.query(`INSERT INTO runs (${RUN_COLS}) SELECT 'x' || lpad(r::text, 9, '0'), 't' || lpad(r::text, 9, '0'), 1, CASE WHEN r % 10 = 0 THEN 'failed' ELSE 'completed' END, 'a', 'r0',
      ${NOW - 3_000_000}, ${NOW - 3_000_000} + r * 1000, '{}', NULL, '\\x00', 30000, NULL, NULL FROM generate_series(0, 2999) AS g(r)`)
    await client.query('ANALYZE')
    await client.end()
    console.log(`postgres loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    await measure('postgres', driver)
    await driver.close()
  } finally {
    await cluster.stop()
  }
}

if (which !== 'postgres') await onSqlite()
if (which !== 'sqlite') await onPostgres()
