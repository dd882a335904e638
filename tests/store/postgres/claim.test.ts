import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { claimNext as claimInTx } from '../../../src/store/postgres/claim.ts'
import { Tx } from '../../../src/store/postgres/tx.ts'
import { sha256 } from '../../../src/domain/token.ts'
import { seedPipeline, seedTasks } from './fixtures.ts'
import type { ClaimRequest } from '../../../src/store/types.ts'

type Ctx = { pool: pg.Pool }
const test = suite<Ctx>('postgres claim', {} as Ctx)
const NOW = 10_000
let roles = 0
const role = () => `role-${++roles}`
const req = (r: string, agentId = 'agent', perState: Record<string, number> = {}) => ({ agentId, role: r, ttlMs: 30_000, perState })

/** The claim in a transaction of its own, as the driver runs it. */
async function claimNext(pool: pg.Pool, r: ClaimRequest, nowMs: number) {
  const client = await pool.connect()
  const tx = new Tx(client)
  try {
    const { claim } = await claimInTx(tx, r, nowMs)
    await tx.commit()
    return claim
  } catch (err) {
    await tx.rollback()
    throw err
  } finally {
    client.release()
  }
}

test.before(async (ctx) => {
  ctx.pool = createPool(await migratedDatabase(), { size: 9 })
})
test.after(async (ctx) => {
  await ctx.pool.end()
})

test('a claim takes the highest priority, then the oldest, then the lowest id, across the stages of a role', async ({ pool }) => {
  const r = role()
  const p = await seedPipeline(pool, r, ['a', 'b'])
  const [old] = await seedTasks(pool, p, 'a', 1, { createdAtMs: 1 })
  const [urgent] = await seedTasks(pool, p, 'b', 1, { createdAtMs: 5, priority: 9 })
  const [young1, young2] = await seedTasks(pool, p, 'a', 2, { createdAtMs: 7 })
  const order = []
  for (let i = 0; i < 5; i++) order.push((await claimNext(pool, req(r), NOW))?.task.id ?? null)
  assert.equal(order, [urgent, old, young1, young2, null])
})

test('a claim writes the run with its lease and holds the task; the answer is the task as it was claimed', async ({ pool }) => {
  const r = role()
  const p = await seedPipeline(pool, r, ['a'])
  const [id] = await seedTasks(pool, p, 'a', 1)
  const claim = (await claimNext(pool, req(r, 'ann'), NOW))!
  assert.is(claim.task.id, id)
  assert.is(claim.task.active_run_id, null)
  assert.is(claim.task.priority, 0) // int8 read as a number
  const { rows: [run] } = await pool.query('SELECT * FROM runs WHERE id = $1', [claim.run.id])
  assert.equal(run, claim.run)
  assert.ok(sha256(Buffer.from(claim.token, 'hex')).equals(run.lease_token_hash))
  const { rows: [task] } = await pool.query('SELECT active_run_id FROM tasks WHERE id = $1', [id])
  assert.is(task.active_run_id, claim.run.id)
})

test('attempts count up per task: a task claimed again gets the next attempt', async ({ pool }) => {
  const r = role()
  const p = await seedPipeline(pool, r, ['a'])
  const [id] = await seedTasks(pool, p, 'a', 1)
  const first = (await claimNext(pool, req(r), NOW))!
  await pool.query('UPDATE tasks SET active_run_id = NULL WHERE id = $1', [id])
  const second = (await claimNext(pool, req(r), NOW))!
  assert.equal([first.run.attempt, second.run.attempt], [1, 2])
})

test('paused pipelines, future, assigned-elsewhere, dead-lettered and blocked tasks are not claimed', async ({ pool }) => {
  const r = role()
  const paused = await seedPipeline(pool, r, ['a'], { paused: true })
  await seedTasks(pool, paused, 'a', 1)
  const p = await seedPipeline(pool, r, ['a'])
  await seedTasks(pool, p, 'a', 1, { nextEligibleAtMs: NOW + 1 })
  await seedTasks(pool, p, 'a', 1, { assignee: 'bob' })
  const [dead, blocked] = await seedTasks(pool, p, 'a', 2)
  await pool.query(`UPDATE tasks SET dead_letter_reason = 'canceled' WHERE id = $1`, [dead])
  await pool.query('UPDATE tasks SET open_dependencies = 1 WHERE id = $1', [blocked])
  assert.is(await claimNext(pool, req(r, 'ann'), NOW), null)
  const [mine] = await seedTasks(pool, p, 'a', 1, { assignee: 'ann' })
  assert.is((await claimNext(pool, req(r, 'ann'), NOW))?.task.id, mine)
})

test('8 connections claiming 2,000 tasks at once: every task is handed out exactly once', async ({ pool }) => {
  const r = role()
  const p = await seedPipeline(pool, r, ['a', 'b'])
  const ids = [...await seedTasks(pool, p, 'a', 1000), ...await seedTasks(pool, p, 'b', 1000, { priority: 1 })]
  const claimer = async (n: number) => {
    const got: string[] = []
    for (let c = await claimNext(pool, req(r, `agent-${n}`), NOW); c !== null; c = await claimNext(pool, req(r, `agent-${n}`), NOW)) got.push(c.task.id)
    return got
  }
  const perClaimer = await Promise.all(Array.from({ length: 8 }, (_, n) => claimer(n)))
  const all = perClaimer.flat()
  assert.is(all.length, 2000)
  assert.is(new Set(all).size, 2000)
  assert.equal([...all].sort(), [...ids].sort())
  assert.ok(perClaimer.every((got) => got.length > 0), 'every connection claimed some')
  const { rows: [counts] } = await pool.query(`SELECT count(*) AS runs, count(DISTINCT task_id) AS tasks FROM runs r JOIN tasks t ON t.id = r.task_id
    WHERE t.pipeline_id = $1`, [p])
  assert.equal(counts, { runs: 2000, tasks: 2000 })
})

test('a per-stage limit holds with 8 concurrent claimers: never more live leases in the stage than the limit', async ({ pool }) => {
  const r = role()
  const p = await seedPipeline(pool, r, ['a', 'b'])
  await seedTasks(pool, p, 'a', 50)
  await seedTasks(pool, p, 'b', 50)
  const claims = await Promise.all(Array.from({ length: 8 }, (_, n) => claimNext(pool, req(r, `agent-${n}`, { a: 3 }), NOW)))
  const again = await Promise.all(Array.from({ length: 8 }, (_, n) => claimNext(pool, req(r, `agent-${n}`, { a: 3 }), NOW)))
  const stages = [...claims, ...again].map((c) => c!.task.stage)
  assert.is(stages.filter((s) => s === 'a').length, 3)
  assert.is(stages.filter((s) => s === 'b').length, 13)
})

test.run()
