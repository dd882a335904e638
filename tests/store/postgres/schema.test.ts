import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { seedPipeline, seedTasks } from './fixtures.ts'

type Ctx = { pool: pg.Pool }
const test = suite<Ctx>('postgres schema', {} as Ctx)

test.before(async (ctx) => {
  ctx.pool = createPool(await migratedDatabase(), { size: 4 })
})
test.after(async (ctx) => {
  await ctx.pool.end()
})

async function sqlState(pool: pg.Pool, sql: string, params: unknown[] = []): Promise<string | undefined> {
  try {
    await pool.query(sql, params)
    return undefined
  } catch (err) {
    return (err as { code?: string }).code
  }
}

const counts = async (pool: pg.Pool) => Object.fromEntries((await pool.query<{ stage: string; n: number }>(
  'SELECT stage, sum(count)::bigint AS n FROM stage_counts GROUP BY stage HAVING sum(count) > 0 ORDER BY stage')).rows.map((r) => [r.stage, r.n]))

test('stage counts follow inserts (many at once, from several sessions) and moves, as /health reads them', async ({ pool }) => {
  const p = await seedPipeline(pool, 'counter', ['a'])
  await Promise.all([seedTasks(pool, p, 'a', 300), seedTasks(pool, p, 'a', 1), seedTasks(pool, p, 'z', 2)])
  assert.equal(await counts(pool), { a: 301, z: 2 })
  await pool.query(`UPDATE tasks SET stage = 'b' WHERE id IN (SELECT id FROM tasks WHERE stage = 'a' LIMIT 10)`)
  await pool.query(`UPDATE tasks SET stage = 'a' WHERE stage = 'z'`)
  await pool.query(`UPDATE tasks SET title = 'not a move' WHERE stage = 'b'`)
  assert.equal(await counts(pool), { a: 293, b: 10 })
})

test('statuses, dead-letter reasons, stored kinds and foreign keys are checked as in SQLite', async ({ pool }) => {
  const p = await seedPipeline(pool, 'checker', ['a'])
  const [task] = await seedTasks(pool, p, 'a', 1)
  const run = (status: string) => sqlState(pool, `INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms,
    lease_token_hash, lease_ttl_ms) VALUES ($1, $2, 1, $3, 'a', 'r', 1, '\\x00', 1)`, [`run-${status}`, task, status])
  assert.is(await run('bogus'), '23514')
  assert.is(await run('released'), undefined)
  assert.is(await sqlState(pool, `UPDATE tasks SET dead_letter_reason = 'tired' WHERE id = $1`, [task]), '23514')
  assert.is(await sqlState(pool, `INSERT INTO otlp_batches (received_at_ms, content_type, stored, accepted_spans, rejected_spans) VALUES (1, 'x', 'xml', 0, 0)`), '23514')
  assert.is(await sqlState(pool, `INSERT INTO stage_roles VALUES ('r', 'no such pipeline', 's')`), '23503')
  assert.is(await sqlState(pool, `INSERT INTO events (run_id, ts_ms, kind, data_json) VALUES ('no such run', 1, 'k', '{}')`), '23503')
  assert.is(await sqlState(pool, `INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version,
    next_eligible_at_ms, retry_delay_ms, created_at_ms, updated_at_ms) VALUES ('t', $1, 's', NULL, '', 0, '{}', 1, 0, 0, 1, 1)`, [p]), '23502')
})

test('an Idempotency-Key record is unique per (key, method, path), paths of any length', async ({ pool }) => {
  const save = (path: string) => sqlState(pool, `INSERT INTO idempotency_keys (key, method, path, request_hash, status, created_at_ms)
    VALUES ('k', 'POST', $1, '\\x01', 201, 1)`, [path])
  const long = `/tasks/${'x'.repeat(16_000)}`
  assert.is(await save(long), undefined)
  assert.is(await save(`${long}y`), undefined)
  assert.is(await save(long), '23505')
})

test('OTLP resource attributes are stored once per distinct text, however long', async ({ pool }) => {
  const put = (json: string) => pool.query<{ id: number }>(`
    WITH ins AS (INSERT INTO otlp_resources (attributes_json) VALUES ($1) ON CONFLICT (attributes_hash) DO NOTHING RETURNING id)
    SELECT id FROM ins UNION ALL SELECT id FROM otlp_resources WHERE attributes_hash = docket_sha256($1) LIMIT 1`, [json])
  const big = JSON.stringify({ attrs: 'v'.repeat(10_000) })
  const [a, b, c] = [await put(big), await put(big), await put('{}')]
  assert.is(a.rows[0].id, b.rows[0].id)
  assert.is.not(a.rows[0].id, c.rows[0].id)
})

test.run()
