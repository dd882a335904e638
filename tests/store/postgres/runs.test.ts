import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { openPostgresDriver } from '../../../src/store/postgres/driver.ts'
import type { Awaitable, Changes, Driver } from '../../../src/store/driver.ts'
import type { Claim, ClaimRequest } from '../../../src/store/types.ts'
import type { LeaseProof } from '../../../src/domain/lease.ts'
import { AppError } from '../../../src/domain/errors.ts'
import { sha256 } from '../../../src/domain/token.ts'
import { manualClock } from '../../../src/clock.ts'
import { silentLog } from '../../../src/log.ts'
import { chainDefinition, seedPipeline, seedTasks } from './fixtures.ts'
import { waitFor } from './wait.ts'

// What only concurrency shows: several Docket nodes (driver instances, each with its own pool) on one
// database changing the same runs at once. The single-node behaviour is the HTTP suite's, on both drivers.
type Ctx = { pool: pg.Pool; nodes: Driver[] }
const test = suite<Ctx>('postgres runs across nodes', {} as Ctx)
const NOW = 1_000_000
const TTL = 30_000
let roles = 0
const newRole = () => `role-${++roles}`

test.before(async (ctx) => {
  const url = await migratedDatabase()
  ctx.pool = createPool(url, { size: 2 })
  // No periodic re-check: a waiter that hears of work here heard a notification.
  ctx.nodes = await Promise.all([1, 2, 3].map(() => openPostgresDriver({ url, poolSize: 6, clock: manualClock(NOW), log: silentLog, recheckMs: 600_000 })))
})
test.after(async (ctx) => {
  await Promise.all(ctx.nodes.map((n) => n.close()))
  await ctx.pool.end()
})

type Outcome<T> = { status: number; value?: T; code?: string }

/** One change on one node, as a route would commit it: its value, or the status and code it was refused with. */
async function change<T>(node: Driver, f: (c: Changes) => Awaitable<T>): Promise<Outcome<T>> {
  let value: T | undefined
  try {
    await node.write(f, { key: null, requestHash: Buffer.alloc(0), answer: (v) => { value = v; return { status: 200, body: null } } })
    return { status: 200, value }
  } catch (err) {
    if (err instanceof AppError) return { status: err.status, code: err.code }
    throw err
  }
}

const request = (role: string, agentId = 'agent', perState: Record<string, number> = {}): ClaimRequest =>
  ({ agentId, role, ttlMs: TTL, perState })

async function claim(node: Driver, req: ClaimRequest, nowMs = NOW): Promise<Claim | null> {
  return (await change(node, (c) => c.claim(req, nowMs))).value!.claim
}

const proofOf = (c: Claim): LeaseProof => ({ runId: c.run.id, tokenHash: sha256(Buffer.from(c.token, 'hex')) })

/** A pipeline a → … → done worked by a new role, with `n` tasks in its first stage. */
async function queue(pool: pg.Pool, n: number, stages = ['a'], seed: { maxAttempts?: number } = {}) {
  const role = newRole()
  const pipelineId = await seedPipeline(pool, role, stages, { definition: chainDefinition(role, stages) })
  const ids = await seedTasks(pool, pipelineId, stages[0], n)
  if (seed.maxAttempts !== undefined) await pool.query('UPDATE tasks SET max_attempts = $2 WHERE id = ANY($1)', [ids, seed.maxAttempts])
  return { role, pipelineId, ids }
}

async function eventsOf(pool: pg.Pool, runId: string): Promise<Array<{ id: number; kind: string; data_json: string }>> {
  return (await pool.query('SELECT id, kind, data_json FROM events WHERE run_id = $1 ORDER BY id', [runId])).rows
}

const transition = { trigger: 'next', instructions: null, usage: undefined, expectedStage: null, expectedTaskVersion: null }

test('two nodes transitioning one run at once: one wins, the other finds the lease gone', async ({ pool, nodes }) => {
  const { role } = await queue(pool, 20)
  const claims = await Promise.all(Array.from({ length: 20 }, () => claim(nodes[0], request(role))))
  // Node 0 handed out the leases, so its transition takes the one-statement path (hinted-transition.ts).
  const races = await Promise.all(claims.map((c) => Promise.all([0, 1].map((n) => change(nodes[n], (ch) => ch.transition(proofOf(c!), transition, NOW + 1))))))
  for (const [i, outcomes] of races.entries()) {
    assert.equal(outcomes.map((o) => o.status).sort(), [200, 404], `run ${i}: ${JSON.stringify(outcomes)}`)
    const task = (await pool.query('SELECT stage, task_version, active_run_id FROM tasks WHERE id = $1', [claims[i]!.task.id])).rows[0]
    assert.equal(task, { stage: 'done', task_version: 2, active_run_id: null })
    assert.equal((await eventsOf(pool, claims[i]!.run.id)).map((e) => e.kind), ['transition'])
  }
})

test('three reapers on three nodes at once reap each expired lease once, counting one failed attempt', async ({ pool, nodes }) => {
  const { role, ids } = await queue(pool, 60)
  const claims = await Promise.all(ids.map((_, i) => claim(nodes[i % 3], request(role))))
  const later = NOW + TTL
  const reaped = await Promise.all(nodes.map((n) => n.tryWrite((c) => c.expireDue(later))))
  assert.is(reaped.reduce((a, b) => a + b!.expired, 0), 60)
  assert.is(reaped.reduce((a, b) => a + b!.deadLettered, 0), 0)
  const { rows: tasks } = await pool.query('SELECT failed_attempts, active_run_id, next_eligible_at_ms FROM tasks WHERE id = ANY($1)', [ids])
  assert.ok(tasks.every((t) => t.failed_attempts === 1 && t.active_run_id === null && t.next_eligible_at_ms === later), JSON.stringify(tasks))
  for (const c of claims) {
    const run = (await pool.query('SELECT status, ended_at_ms, lease_expires_at_ms FROM runs WHERE id = $1', [c!.run.id])).rows[0]
    assert.equal(run, { status: 'stale', ended_at_ms: later, lease_expires_at_ms: null })
    const events = await eventsOf(pool, c!.run.id)
    assert.equal(events.map((e) => [e.kind, e.data_json]), [
      ['lease_expired', `{"lease_expires_at_ms":${NOW + TTL}}`],
      ['retry_scheduled', `{"reason":"retry_scheduled","failed_attempts":1,"retry_delay_ms":0,"next_eligible_at_ms":${later}}`],
    ])
  }
  assert.equal((await Promise.all(nodes.map((n) => n.tryWrite((c) => c.expireDue(later))))).map((r) => r!.expired), [0, 0, 0])
})

test('claims on three nodes reap the expired leases first, each once, and take the freed work', async ({ pool, nodes }) => {
  const { role, ids } = await queue(pool, 9, ['a'], { maxAttempts: 1 })
  await Promise.all(ids.map((_, i) => claim(nodes[i % 3], request(role))))
  const later = NOW + TTL
  const outcomes = await Promise.all(ids.map((_, i) => change(nodes[i % 3], (c) => c.claim(request(role), later))))
  assert.is(outcomes.reduce((sum, o) => sum + o.value!.reaped.expired, 0), 9)
  assert.is(outcomes.reduce((sum, o) => sum + o.value!.reaped.deadLettered, 0), 9)
  // max_attempts 1: every expired lease dead-letters its task, so nothing is left to claim.
  assert.ok(outcomes.every((o) => o.value!.claim === null))
  const { rows } = await pool.query('SELECT dead_letter_reason, failed_attempts FROM tasks WHERE id = ANY($1)', [ids])
  assert.ok(rows.every((t) => t.dead_letter_reason === 'max_attempts_exceeded' && t.failed_attempts === 1), JSON.stringify(rows))
  const { rows: [events] } = await pool.query(`SELECT count(*) FILTER (WHERE kind = 'lease_expired') AS expired, count(*) FILTER (WHERE kind = 'dead_letter') AS dead
    FROM events e JOIN runs r ON r.id = e.run_id WHERE r.task_id = ANY($1)`, [ids])
  assert.equal(events, { expired: 9, dead: 9 })
})

test('a heartbeat racing the reaper: either the lease is extended and not reaped, or reaped and the heartbeat refused', async ({ pool, nodes }) => {
  const { role, ids } = await queue(pool, 30)
  const claims = await Promise.all(ids.map(() => claim(nodes[0], request(role))))
  const due = NOW + TTL
  const [beats, reaped] = await Promise.all([
    Promise.all(claims.map((c) => change(nodes[1], (ch) => ch.heartbeat(proofOf(c!), null, due - 1)))),
    nodes[2].tryWrite((c) => c.expireDue(due)),
  ])
  const extended = beats.filter((b) => b.status === 200)
  assert.ok(beats.every((b) => b.status === 200 || (b.status === 404 && b.code === 'not_found')), JSON.stringify(beats))
  assert.is(extended.length + reaped!.expired, 30)
  const { rows: [stale] } = await pool.query(`SELECT count(*) AS n FROM runs WHERE status = 'stale' AND task_id = ANY($1)`, [ids])
  assert.is(stale.n, reaped!.expired)
})

test('a per-stage limit holds across two nodes claiming at once', async ({ pool, nodes }) => {
  const role = newRole()
  const p = await seedPipeline(pool, role, ['a', 'b'], { definition: chainDefinition(role, ['a', 'b']) })
  await seedTasks(pool, p, 'a', 20, { priority: 1 })
  await seedTasks(pool, p, 'b', 20)
  const wave = () => Promise.all(Array.from({ length: 8 }, (_, i) => claim(nodes[i % 2], request(role, `agent-${i}`, { a: 3 }))))
  const claims = [...await wave(), ...await wave()]
  assert.is(claims.filter((c) => c!.task.stage === 'a').length, 3)
  // A lease ended on one node frees its slot for a claim on the other.
  const inA = claims.find((c) => c!.task.stage === 'a')!
  assert.is((await change(nodes[0], (c) => c.transition(proofOf(inA), transition, NOW))).status, 200)
  const next = await Promise.all([claim(nodes[1], request(role, 'x', { a: 3 })), claim(nodes[0], request(role, 'y', { a: 3 }))])
  assert.equal(next.map((c) => c!.task.stage).sort(), ['a', 'b'])
})

test('events appended to one run from two nodes at once commit in id order, none after its transition', async ({ pool, nodes }) => {
  const { role } = await queue(pool, 1)
  const c = (await claim(nodes[0], request(role)))!
  const appends = Array.from({ length: 20 }, (_, i) => change(nodes[i % 2], (ch) => ch.appendEvent(proofOf(c), 'note', { i }, NOW)))
  const done = change(nodes[2], (ch) => ch.transition(proofOf(c), transition, NOW))
  const outcomes = await Promise.all(appends)
  assert.is((await done).status, 200)
  const events = await eventsOf(pool, c.run.id)
  assert.is(events.at(-1)!.kind, 'transition')
  const written = outcomes.filter((o) => o.status === 200).map((o) => o.value!)
  assert.equal(events.slice(0, -1).map((e) => e.id), [...written].sort((a, b) => a - b))
  assert.ok(outcomes.every((o) => o.status === 200 || o.status === 404), JSON.stringify(outcomes))
})

test('a cancel racing a transition of the task: both finish, one order or the other', async ({ pool, nodes }) => {
  const { role, ids } = await queue(pool, 20)
  const claims = await Promise.all(ids.map(() => claim(nodes[0], request(role))))
  const started = performance.now()
  const races = await Promise.all(claims.map((c, i) => Promise.all([
    change(nodes[i % 2], (ch) => ch.transition(proofOf(c!), transition, NOW)),
    change(nodes[2], (ch) => ch.cancelTask(c!.task.id, 'stop', NOW)),
  ])))
  // Locks are taken task first everywhere: no deadlock to wait out (deadlock_timeout is 1 s).
  assert.ok(performance.now() - started < 900, `took ${performance.now() - started} ms`)
  for (const [i, [moved, canceled]] of races.entries()) {
    assert.is(canceled.status, 200)
    const run = (await pool.query('SELECT status FROM runs WHERE id = $1', [claims[i]!.run.id])).rows[0]
    if (moved.status === 200) {
      assert.equal([run.status, canceled.value!.stage], ['completed', 'done'])
    } else {
      assert.equal([moved.status, moved.code, run.status, canceled.value!.stage], [409, 'conflict', 'canceled', 'a'])
    }
    assert.is(canceled.value!.dead_letter_reason, 'canceled')
  }
})

test('waiters on another node hear of a transition now, and of a failed attempt at its retry time', async ({ pool, nodes }) => {
  const heard: Array<number | 'now'> = []
  nodes[1].watch({ eligibleAt: (atMs) => heard.push(atMs), remoteWrite: () => heard.push('now') })
  const { role, ids } = await queue(pool, 2)
  await pool.query('UPDATE tasks SET retry_delay_ms = 5000 WHERE id = $1', [ids[0]])
  const [first, second] = [(await claim(nodes[0], request(role)))!, (await claim(nodes[0], request(role)))!]
  assert.is((await change(nodes[0], (c) => c.fail(proofOf(first), 'no', undefined, NOW))).status, 200)
  await waitFor(() => heard.includes(NOW + 5000) && heard.includes('now'), 2_000, `heard ${JSON.stringify(heard)}`)
  heard.length = 0
  assert.is((await change(nodes[2], (c) => c.transition(proofOf(second), transition, NOW))).status, 200)
  await waitFor(() => heard.includes('now'), 2_000, 'no wake-up for the transition')
})

test.run()
