import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import * as v from 'valibot'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { openPostgresDriver } from '../../../src/store/postgres/driver.ts'
import { createContext } from '../../../src/store/postgres/context.ts'
import { tasksChanges } from '../../../src/store/postgres/tasks.ts'
import { Tx } from '../../../src/store/postgres/tx.ts'
import { pageSql } from '../../../src/store/postgres/time-pages.ts'
import { compilePipeline, DefinitionSchema } from '../../../src/domain/pipeline.ts'
import { AppError } from '../../../src/domain/errors.ts'
import { manualClock } from '../../../src/clock.ts'
import { silentLog } from '../../../src/log.ts'
import type { Changes, Driver, Recording } from '../../../src/store/driver.ts'
import type { NewTask } from '../../../src/store/types.ts'
import { waitFor } from './wait.ts'

// What the HTTP suite cannot reach: two nodes (two drivers on one database) changing the same tasks at the
// same moment, the round trips of a create, and the plans of the task lists.
type Ctx = { url: string; one: Driver; two: Driver; pool: pg.Pool }
const test = suite<Ctx>('postgres tasks', {} as Ctx)
const NOW = 1_700_000_000_000
let names = 0

test.before(async (ctx) => {
  ctx.url = await migratedDatabase()
  const open = () => openPostgresDriver({ url: ctx.url, poolSize: 4, clock: manualClock(NOW), log: silentLog })
  ;[ctx.one, ctx.two] = await Promise.all([open(), open()])
  ctx.pool = createPool(ctx.url, { size: 2 })
})
test.after(async (ctx) => {
  await Promise.all([ctx.one.close(), ctx.two.close(), ctx.pool.end()])
})

const recording: Recording<unknown> = { key: null, requestHash: Buffer.alloc(0), answer: (r) => ({ status: 200, body: JSON.stringify(r ?? null) }) }
const write = async <T>(d: Driver, change: (c: Changes) => T | Promise<T>): Promise<T> =>
  JSON.parse((await d.write(change, recording as Recording<T>)).body!) as T

const definition = { initial: 'work', states: { work: { agent_role: 'worker' }, done: { terminal: true } }, transitions: [{ from: 'work', to: 'done', trigger: 'finish' }] }
const compiled = compilePipeline(v.parse(DefinitionSchema, definition))

async function pipeline(d: Driver): Promise<string> {
  return write(d, (c) => c.createPipeline(`p${++names}`, definition, compiled, NOW))
}
async function tasks(d: Driver, pipelineId: string, n: number): Promise<string[]> {
  return write(d, (c) => c.createTasks(Array.from({ length: n }, () => ({ pipeline_id: pipelineId, title: 't', description: 'd' })), NOW))
}

/**
 * Runs `first` on one node and holds its transaction open; starts `second` on the other node and waits until
 * it is blocked on a lock the first holds; then lets the first commit (or fail, if `firstFails`). Returns
 * how each ended.
 */
async function race(ctx: Ctx, first: (c: Changes) => unknown, second: (c: Changes) => unknown, firstFails = false) {
  let reached!: () => void
  let release!: () => void
  const isReached = new Promise<void>((resolve) => { reached = resolve })
  const released = new Promise<void>((resolve) => { release = resolve })
  const one = ctx.one.write(async (c) => {
    const result = await first(c)
    reached()
    await released
    if (firstFails) throw new AppError('test_rollback', 400, 'rolled back on purpose')
    return result
  }, recording)
  await isReached
  const two = ctx.two.write(async (c) => second(c), recording)
  const waiting = async () => (await ctx.pool.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n > 0
  const waited = await waitFor(waiting, 2_000, 'the second change never waited for the first').then(() => null, (err: Error) => err)
  release()
  const ends = await Promise.allSettled([one, two])
  if (waited !== null) throw new Error(`${waited.message}: ${JSON.stringify(ends.map(codeOf))}`)
  return ends
}

const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? (r.reason as AppError).code : 'ok')

test('two nodes adding opposite edges at once: one is added, the other is a dependency_cycle', async (ctx) => {
  const [a, b] = await tasks(ctx.one, await pipeline(ctx.one), 2)
  const ends = await race(ctx, (c) => c.addDependency(a, b, NOW), (c) => c.addDependency(b, a, NOW))
  assert.equal(ends.map(codeOf), ['ok', 'dependency_cycle'])
  assert.equal(await ctx.one.reads.dependencies(b), [])
})

test('two nodes closing a cycle through four tasks with edges that share no task: one is a dependency_cycle', async (ctx) => {
  const [a, b, c, d] = await tasks(ctx.one, await pipeline(ctx.one), 4)
  await write(ctx.one, (x) => x.addDependency(b, c, NOW))
  await write(ctx.one, (x) => x.addDependency(d, a, NOW))
  const ends = await race(ctx, (x) => x.addDependency(a, b, NOW), (x) => x.addDependency(c, d, NOW))
  assert.equal(ends.map(codeOf), ['ok', 'dependency_cycle'])
})

test('two nodes creating one pipeline name at once: one is created, the other is 409 duplicate_name', async (ctx) => {
  const name = `same${++names}`
  const create = (c: Changes) => c.createPipeline(name, definition, compiled, NOW)
  const ends = await race(ctx, create, create)
  assert.equal(ends.map(codeOf), ['ok', 'duplicate_name'])
  assert.is((ends[1] as PromiseRejectedResult).reason.status, 409)
  assert.is((await ctx.one.reads.pipelines()).filter((p) => p.name === name).length, 1)
})

test('a pipeline name whose first create rolls back is created by the one that waited', async (ctx) => {
  const name = `same${++names}`
  const create = (c: Changes) => c.createPipeline(name, definition, compiled, NOW)
  const ends = await race(ctx, create, create, true)
  assert.equal(ends.map(codeOf), ['test_rollback', 'ok'])
  assert.is((await ctx.one.reads.pipelines()).filter((p) => p.name === name).length, 1)
})

test('two nodes assigning one task at once leave one active assignment: the later one', async (ctx) => {
  const [t] = await tasks(ctx.one, await pipeline(ctx.one), 1)
  const ends = await race(ctx, (c) => c.assign(t, 'ann', null, NOW), (c) => c.assign(t, 'bob', null, NOW))
  assert.equal(ends.map(codeOf), ['ok', 'ok'])
  const rows = await ctx.one.reads.assignments(t)
  assert.equal(rows.map((r) => [r.agent_id, r.active]), [['ann', 0], ['bob', 1]])
  assert.is((await ctx.one.reads.task(t))!.assignee, 'bob')
})

test('a task created on one node for later wakes the other node\'s waiters at its not_before_ms', async (ctx) => {
  const heard: number[] = []
  ctx.two.watch({ eligibleAt: (atMs) => heard.push(atMs), remoteWrite: () => {} })
  const pipelineId = await pipeline(ctx.one)
  await write(ctx.one, (c) => c.createTasks([5_000, 9_000, 5_000].map((later) => ({ pipeline_id: pipelineId, title: 't', description: 'd', not_before_ms: NOW + later })), NOW))
  await waitFor(() => heard.length >= 2, 2_000, `heard ${heard}`)
  assert.equal(heard.sort((a, b) => a - b), [NOW + 5_000, NOW + 9_000])
})

test('a create is one statement for all its rows, after one locking read of its upstream tasks; its wake-up waits for the commit', async (ctx) => {
  const pipelineId = await pipeline(ctx.one)
  const [upstream] = await tasks(ctx.one, pipelineId, 1)
  const changes = tasksChanges(createContext(manualClock(NOW)))
  const client = await ctx.pool.connect()
  let statements = 0
  const query = client.query.bind(client) as (...args: unknown[]) => unknown
  ;(client as unknown as { query: typeof query }).query = (...args) => { statements += 1; return query(...args) }
  const tx = new Tx(client)
  try {
    await tx.begin()
    const bulk = (n: number, fields: Partial<NewTask>) => Array.from({ length: n }, () => ({ pipeline_id: pipelineId, title: 't', description: 'd', ...fields }))
    await changes.createTasks(tx, bulk(1, {}), NOW) // reads the pipeline's definition once per process
    const counted = async (items: NewTask[]) => {
      statements = 0
      tx.wakes.clear()
      const ids = await changes.createTasks(tx, items, NOW)
      assert.is(ids.length, items.length)
      return [statements, [...tx.wakes]]
    }
    // The upstream tasks (locked), then all rows; blocked by the upstream, they wake nobody.
    assert.equal(await counted(bulk(500, { dependencies: [upstream], assigned_agent_id: 'ann' })), [2, []])
    // All rows; they are claimable now: a wake-up, sent by the driver once the transaction commits.
    assert.equal(await counted(bulk(500, {})), [1, ['']])
    const { rows } = await client.query('SELECT count(*)::int AS n, sum(open_dependencies)::int AS open FROM tasks WHERE pipeline_id = $1', [pipelineId])
    assert.equal(rows[0], { n: 1002, open: 500 })
  } finally {
    await client.query('ROLLBACK')
    client.release()
  }
})

// 30,000 tasks over 10 pipelines and 3 stages, 1,000 runs and 30,000 artifacts (half of them of a run).
const SEED = `
  INSERT INTO pipelines (id, name, definition_json, created_at_ms) SELECT 'p' || i, 'seed' || i, '{}', 1 FROM generate_series(0, 9) i;
  INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version, next_eligible_at_ms,
    retry_delay_ms, created_at_ms, updated_at_ms)
  SELECT 't' || i, 'p' || i % 10, (ARRAY['work', 'review', 'done'])[i % 3 + 1], 't', 'd', 0, '{}', 1, 0, 0, i / 4, i / 4
  FROM generate_series(0, 29999) i;
  INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash, lease_ttl_ms)
  SELECT 'r' || i, 't' || i, 1, 'completed', 'a', 'worker', i, '\\x00', 1000 FROM generate_series(0, 999) i;
  INSERT INTO artifacts (id, task_id, run_id, created_at_ms, kind, uri, meta_json)
  SELECT 'a' || i, 't' || i % 1000, CASE WHEN i % 2 = 0 THEN 'r' || i % 1000 END, i / 4, 'log', 'u', '{}'
  FROM generate_series(0, 29999) i;
  ANALYZE pipelines, tasks, runs, artifacts`

test('every task and artifact list reads through an index of its filter, never a scan of the table, custom or generic plan', async ({ pool }) => {
  const client = await pool.connect()
  type Plan = { 'Node Type': string; 'Index Name'?: string; Plans?: Plan[] }
  const nodes = (p: Plan): Plan[] => [p, ...(p.Plans ?? []).flatMap(nodes)]
  const values: Record<string, string> = { stage: "'work'", pipeline_id: "'p1'", task_id: "'t2'", run_id: "'r2'" }
  try {
    await client.query('BEGIN') // the seed and its statistics are rolled back
    await client.query(SEED)
    const lists: Array<[string, string[]]> = [['tasks', []], ['tasks', ['stage']], ['tasks', ['pipeline_id']], ['tasks', ['stage', 'pipeline_id']],
      ['artifacts', []], ['artifacts', ['task_id']], ['artifacts', ['run_id']], ['artifacts', ['task_id', 'run_id']]]
    for (const [table, used] of lists) {
      for (const hasCursor of [false, true]) {
        const args = ['50', ...used.map((column) => values[column]), ...(hasCursor ? ['1000', "'t4000'"] : [])]
        await client.query(`PREPARE page AS ${pageSql(table, '*', used, hasCursor)}`)
        // A selective filter may read its few rows through the index unordered and sort them: that is cheap.
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET LOCAL plan_cache_mode = ${mode}`)
          const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE page(${args.join(', ')})`)
          const plan = nodes(JSON.parse(rows[0]['QUERY PLAN'])[0].Plan)
          const label = `${table} by [${used}]${hasCursor ? ' after a cursor' : ''}, ${mode}`
          assert.ok(plan.every((n) => n['Node Type'] !== 'Seq Scan'), `${label}: ${plan.map((n) => n['Node Type'])}`)
          assert.ok(plan.some((n) => n['Index Name']?.startsWith(`${table}_by_`)), `${label}: ${plan.map((n) => n['Index Name'])}`)
        }
        await client.query('DEALLOCATE page')
      }
    }
  } finally {
    await client.query('ROLLBACK')
    client.release()
  }
})

test.run()
