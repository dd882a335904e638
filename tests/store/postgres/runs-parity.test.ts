import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { openPostgresDriver } from '../../../src/store/postgres/driver.ts'
import { closeDb, openDb, type Db } from '../../../src/store/sqlite/db.ts'
import { createSqliteDriver } from '../../../src/store/sqlite/driver.ts'
import { mapAwaitable, type Awaitable, type Changes, type Driver, type Reaped } from '../../../src/store/driver.ts'
import type { Claim } from '../../../src/store/types.ts'
import type { LeaseProof } from '../../../src/domain/lease.ts'
import { AppError } from '../../../src/domain/errors.ts'
import { sha256 } from '../../../src/domain/token.ts'
import { compilePipeline, DefinitionSchema } from '../../../src/domain/pipeline.ts'
import { manualClock, type ManualClock } from '../../../src/clock.ts'
import { silentLog } from '../../../src/log.ts'
import * as v from 'valibot'

// The same story of runs told to both drivers — claims, heartbeats, events, transitions (into a terminal
// stage and out of one, with dependents), failures with retry and dead letter, expiry, release, cancel,
// requeue, and the refusals on the way — must leave the same rows: tasks, runs, events with their ids and
// JSON byte for byte, and give the same answers. The tasks are created on SQLite and copied to PostgreSQL
// (creating them is another module's work); run ids, which are random, are compared as (task, attempt).
// PostgreSQL hears it twice, on two databases: on one node (whose transitions take the one-statement path:
// it claimed), and on two nodes, one claiming and the other doing the rest (two statements).
type Target = { pool: pg.Pool; claimer: Driver; changer: Driver; clock: ManualClock }
type Ctx = { dir: string; db: Db; sqlite: Driver; clock: ManualClock; targets: Target[] }
const test = suite<Ctx>('postgres runs: the rows and answers SQLite gives', {} as Ctx)
const START = 1_700_000_000_000

const DEFINITION = {
  initial: 'a',
  states: {
    a: { agent_role: 'w' }, b: { agent_role: 'w' }, parked: {}, done: { terminal: true }, dropped: { terminal: true },
  },
  transitions: [
    { from: 'a', to: 'b', trigger: 'next', instructions: 'go on' },
    { from: 'b', to: 'done', trigger: 'next' },
    { from: 'a', to: 'dropped', trigger: 'drop' },
    { from: 'parked', to: 'a', trigger: 'resume' },
  ],
}

test.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'docket-parity-'))
  ctx.db = openDb(join(ctx.dir, 'docket.db'))
  ctx.clock = manualClock(START)
  ctx.sqlite = createSqliteDriver(ctx.db, { clock: ctx.clock, lockTimeoutMs: 5_000 })
  ctx.targets = await Promise.all([1, 2].map(async (nodes) => {
    const url = await migratedDatabase()
    const clock = manualClock(START)
    const open = () => openPostgresDriver({ url, poolSize: 4, clock, log: silentLog })
    const claimer = await open()
    return { pool: createPool(url, { size: 2 }), claimer, changer: nodes === 1 ? claimer : await open(), clock }
  }))
})
test.after(async (ctx) => {
  for (const t of ctx.targets) {
    await Promise.all([...new Set([t.claimer, t.changer])].map((n) => n.close()))
    await t.pool.end()
  }
  closeDb(ctx.db)
  rmSync(ctx.dir, { recursive: true, force: true })
})

type Step = { ok: unknown } | { error: [number, string, string] }

async function step<T>(driver: Driver, f: (c: Changes) => Awaitable<T>): Promise<Step & { value?: T }> {
  let value: T | undefined
  try {
    await driver.write(f, { key: null, requestHash: Buffer.alloc(0), answer: (r) => { value = r; return { status: 200, body: null } } })
    return { ok: value, value }
  } catch (err) {
    if (err instanceof AppError) return { error: [err.status, err.code, err.message] }
    throw err
  }
}

/** Tasks created on SQLite through its driver, then the same rows (same ids) copied into each PostgreSQL. */
async function seed({ db, sqlite, targets }: Ctx): Promise<Record<string, string>> {
  const compiled = compilePipeline(v.parse(DefinitionSchema, DEFINITION))
  const nowMs = START
  const pipelineId = (await step(sqlite, (c) => c.createPipeline('parity', DEFINITION, compiled, nowMs))).value!
  const task = (title: string, extra: object = {}) => ({ pipeline_id: pipelineId, title, description: `${title} \u0000 ünïcode`, ...extra })
  const retry = (max: number, delay: number, stage: string | null) => ({ retry_policy: { max_attempts: max, retry_delay_ms: delay, dead_letter_stage: stage } })
  const [t1, t2, t3, t6, t7] = (await step(sqlite, (c) => c.createTasks([
    task('t1', { priority: 9, metadata: { k: ['v', 1] } }),
    task('t2', { priority: 8, ...retry(2, 1_000, 'dropped') }),
    task('t3', { priority: 7 }),
    task('t6', { priority: 6, ...retry(1, 0, 'parked') }),
    task('t7', { priority: 10, assigned_agent_id: 'zed', assigned_by: 'boss' }),
  ], nowMs))).value!
  const [t4, t5] = (await step(sqlite, (c) => c.createTasks([
    task('t4', { dependencies: [t1] }),
    task('t5', { dependencies: [t1, t2] }),
  ], nowMs))).value!
  for (const { pool } of targets) {
    const copy = async (table: string, booleans: string[] = []) => {
      const rows = db.prepare(`SELECT * FROM ${table}`).all() as Array<Record<string, unknown>>
      for (const row of rows) {
        for (const b of booleans) row[b] = row[b] === 1
        const columns = Object.keys(row)
        await pool.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(row))
      }
    }
    await copy('pipelines', ['paused'])
    await copy('stage_roles')
    await copy('tasks')
    await pool.query('INSERT INTO task_dependencies (task_id, depends_on_task_id, created_at_ms) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[])', [
      [t4, t5, t5], [t1, t1, t2], [nowMs, nowMs, nowMs]])
    await copy('task_assignments', ['active'])
  }
  return { t1, t2, t3, t4, t5, t6, t7 }
}

const proofOf = (c: Claim): LeaseProof => ({ runId: c.run.id, tokenHash: sha256(Buffer.from(c.token, 'hex')) })
const WRONG: LeaseProof['tokenHash'] = sha256('not the token')
const move = (trigger: string, extra: object = {}) => ({ trigger, instructions: null, usage: undefined, expectedStage: null, expectedTaskVersion: null, ...extra })

/**
 * The story, told to one database: claims through `claimer`, every other change through `changer`. Returns
 * every answer (run ids and tokens left out: they are random).
 */
/** What a reaping says, its run ids (random) left out but counted. */
const countsOf = (r: Reaped) => ({ expired: r.expired, deadLettered: r.deadLettered, runs: r.runIds.length })

async function story(claimer: Driver, changer: Driver, clock: ManualClock, ids: Record<string, string>): Promise<unknown[]> {
  const answers: unknown[] = []
  const at = () => clock.now()
  const record = async <T>(f: (c: Changes) => Awaitable<T>) => {
    const s = await step(changer, f)
    answers.push('ok' in s ? s.ok : s.error)
    return s.value
  }
  const claim = async (agentId = 'ann', perState: Record<string, number> = {}) => {
    const got = (await step(claimer, (c) => c.claim({ agentId, role: 'w', ttlMs: 10_000, perState }, at()))).value!
    answers.push(['claim', got.claim?.task, got.claim?.run.attempt, got.claim?.run.lease_expires_at_ms, countsOf(got.reaped)])
    return got.claim
  }
  const claimants = async () => {
    const c = await changer.reads.claimants('w', at())
    answers.push(['claimants', c.anyone, [...c.agents]])
  }
  await claimants()
  const c7 = (await claim('zed'))!                                   // t7: assigned to zed, priority 10
  await record((c) => c.transition(proofOf(c7), move('drop'), at()))  // a → dropped
  const c1 = (await claim())!                                        // t1
  clock.advance(1_000)
  await record((c) => c.heartbeat(proofOf(c1), 20_000, at()))
  await record((c) => c.heartbeat({ ...proofOf(c1), tokenHash: WRONG }, null, at()))
  await record((c) => c.appendEvent(proofOf(c1), 'note', { s: 'x\u0000y\u2028😀"\\', n: 1.5, e: 1e21, nested: [null, true, {}] }, at()))
  await record((c) => c.appendEvent({ ...proofOf(c1), tokenHash: WRONG }, 'note', {}, at()))
  await record((c) => c.appendEvent(proofOf(c1), 'empty', undefined, at()))
  await record((c) => c.transition(proofOf(c1), move('next', { expectedStage: 'b' }), at()))
  await record((c) => c.transition(proofOf(c1), move('next', { expectedTaskVersion: 7 }), at()))
  await record((c) => c.transition(proofOf(c1), move('nope'), at()))
  await record((c) => c.transition(proofOf(c1), move('next', { usage: { tokens: 3 }, expectedStage: 'a', expectedTaskVersion: 1 }), at()))
  await record((c) => c.heartbeat(proofOf(c1), null, at()))        // 404 Lease not found
  await record((c) => c.transition(proofOf(c1), move('next'), at())) // 404
  const c1b = (await claim())!                                       // t1 again, in b
  await record((c) => c.transition(proofOf(c1b), move('next', { instructions: 'custom', usage: null }), at())) // → done: t4 open
  await claimants()
  const c2 = (await claim())!                                        // t2
  await record((c) => c.fail(proofOf(c2), 'boom', { x: 1 }, at()))  // retry in 1 s
  await claim('ann', { a: 1 })                                       // t3 (t2 waits)
  await claim('ann', { a: 1 })                                       // none: the limit
  clock.advance(1_000)
  const c2b = (await claim())!                                       // t2 again
  clock.advance(10_000)
  await record((c) => c.heartbeat(proofOf(c2b), null, at()))       // 410: expired, not yet reaped
  await claim()                                                      // reaps t3 (retry) and t2 (dead letter → dropped: t5 loses one), claims t3
  await record((c) => mapAwaitable(c.expireDue(at()), countsOf))
  const c6 = (await claim())!
  await record((c) => c.fail(proofOf(c6), 'no', undefined, at()))   // dead letter → parked
  await record((c) => c.requeueTask(ids.t6, null, at()))
  await record((c) => c.requeueTask(ids.t2, 'a', at()))             // out of a terminal stage: t5 gains one
  await record((c) => c.requeueTask(ids.t2, 'nowhere', at()))
  await record((c) => c.requeueTask('missing', null, at()))
  const c3 = (await claim('bob'))!
  await record((c) => c.requeueTask(c3.task.id, null, at()))         // 409: it runs
  await record((c) => c.release(c3.run.id, 'client_gone', null, at()))
  await record((c) => c.release(c3.run.id, 'client_gone', null, at())) // false: not running any more
  const c3b = (await claim('bob'))!
  await record((c) => c.cancelTask(c3b.task.id, 'stop', at()))
  await record((c) => c.transition(proofOf(c3b), move('next'), at())) // 409 Run was canceled
  await record((c) => c.cancelTask(c3b.task.id, null, at()))           // already canceled: unchanged
  await record((c) => c.requeueTask(c3b.task.id, 'b', at()))
  await record((c) => c.cancelTask(ids.t4, null, at()))               // no run: the event goes nowhere
  await record((c) => c.cancelTask(ids.t1, null, at()))               // done: the event goes to its latest run
  await claimants()
  while ((await claim()) !== null) clock.advance(1)
  return answers
}

/** Rows of every database in one shape (SQLite's first), run ids as task:attempt. */
async function rows(ctx: Ctx): Promise<unknown[]> {
  const fromSqlite = async (sql: string) => ctx.db.prepare(sql).all() as Array<Record<string, unknown>>
  const fromPostgres = (pool: pg.Pool) => async (sql: string) => (await pool.query(sql)).rows as Array<Record<string, unknown>>
  const out: unknown[] = []
  for (const read of [fromSqlite, ...ctx.targets.map((t) => fromPostgres(t.pool))]) {
    const runs = await read('SELECT * FROM runs ORDER BY task_id, attempt')
    const name = new Map(runs.map((r) => [r.id, `${r.task_id}:${r.attempt}`]))
    const named = (id: unknown) => id === null ? null : name.get(id)
    out.push({
      tasks: (await read('SELECT * FROM tasks ORDER BY id')).map((t) => ({ ...t, active_run_id: named(t.active_run_id) })),
      runs: runs.map(({ lease_token_hash: _hash, ...r }) => ({ ...r, id: named(r.id) })),
      events: (await read('SELECT * FROM events ORDER BY id')).map((e) => ({ ...e, run_id: named(e.run_id) })),
      stages: await read('SELECT stage, CAST(sum(count) AS bigint) AS count FROM stage_counts GROUP BY stage HAVING sum(count) > 0 ORDER BY stage'),
    })
  }
  return out
}

test('a story of claims, leases and outcomes leaves the same rows and answers on both drivers', async (ctx) => {
  const ids = await seed(ctx)
  const sqlite = await story(ctx.sqlite, ctx.sqlite, ctx.clock, ids)
  for (const t of ctx.targets) assert.equal(await story(t.claimer, t.changer, t.clock, ids), sqlite)
  const [onSqlite, ...onPostgres] = await rows(ctx)
  for (const each of onPostgres) assert.equal(each, onSqlite)
  assert.is((onSqlite as { events: unknown[] }).events.length, 17, 'the story wrote its events')
})

test.run()
