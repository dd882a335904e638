import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, expectStatus, unique } from '../helpers/fixtures.ts'
import { assertConsistent } from '../helpers/invariants.ts'
import { prng } from '../helpers/random.ts'
import { walkTasks } from '../helpers/tasks.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('64 concurrent claimers', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const ROLES = 8
const AGENTS = 64
const TASKS_PER_ROLE = 25
const MAX_ATTEMPTS = 3
const TTL_MS = 1000
const SEED = Number(process.env.FUZZ_SEED ?? 20240601)

// Answers an agent may get once its lease ran out under it: expired, reaped, or no longer running.
const LOST_LEASE = new Set([404, 409, 410])

test(`claims, heartbeats, failures and expiries from ${AGENTS} agents over ${ROLES} roles finish every task exactly once`, async ({ s }) => {
  const random = prng(SEED)
  const roles = Array.from({ length: ROLES }, () => unique('role'))
  const taskIds: string[] = []
  for (const role of roles) {
    const definition = { initial: 'w', states: { w: { agent_role: role }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
    const pipelineId = expectStatus(await s.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
    const tasks = Array.from({ length: TASKS_PER_ROLE }, (_, i) => ({
      pipeline_id: pipelineId, title: `t${i}`, description: '', retry_policy: { max_attempts: MAX_ATTEMPTS, retry_delay_ms: 0 },
    }))
    taskIds.push(...expectStatus(await s.request('POST', '/tasks/bulk', { tasks }), 201).body.ids)
  }

  const completions = new Map<string, number>() // task → acknowledged transitions to the terminal stage
  const attempts = new Map<string, Set<number>>()
  let claims = 0
  let expiries = 0

  // Moves time past every lease's TTL and reaps: whatever an agent holds at that moment expires under it.
  const expireAll = async () => {
    s.clock.advance(TTL_MS + 1)
    expiries += await s.docket.reaper.tick()
  }

  const agent = async (n: number) => {
    const role = roles[n % ROLES]
    for (;;) {
      const res = await s.request('POST', '/leases/claim', { agent_id: `agent-${n}`, agent_role: role, lease_ttl_ms: TTL_MS })
      if (res.status === 204) return
      const lease = expectStatus(res, 200).body
      const taskId: string = lease.task.id
      assert.not.ok(completions.has(taskId), `a completed task was claimed: ${taskId}`)
      const seen = attempts.get(taskId) ?? new Set()
      assert.not.ok(seen.has(lease.run.attempt), `attempt ${lease.run.attempt} of ${taskId} was handed out twice`)
      attempts.set(taskId, seen.add(lease.run.attempt))
      if (++claims % 64 === 0) await expireAll()

      const auth = bearer(lease.lease_token)
      const roll = random()
      if (roll < 0.25) continue // walks away: the lease expires at the next expireAll
      if (roll < 0.5) {
        const failed = await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'boom' }, auth)
        if (!LOST_LEASE.has(failed.status)) expectStatus(failed, 200)
        continue
      }
      if (roll < 0.75) {
        const beat = await s.request('POST', `/leases/${lease.lease_id}/heartbeat`, undefined, auth)
        if (!LOST_LEASE.has(beat.status)) expectStatus(beat, 200)
      }
      const done = await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'go' }, auth)
      if (LOST_LEASE.has(done.status)) continue
      expectStatus(done, 200)
      completions.set(taskId, (completions.get(taskId) ?? 0) + 1)
    }
  }

  // Rounds: every agent claims until nothing is left for it, then abandoned leases expire and free their tasks.
  for (let round = 0; round < 50; round++) {
    await Promise.all(Array.from({ length: AGENTS }, (_, n) => agent(n)))
    await expireAll()
    const open = (await walkTasks(s, { stage: 'w' }, 1000)).filter((t) => t.dead_letter_reason === null)
    if (open.length === 0) break
  }
  assert.ok(expiries > 0 && claims > taskIds.length, `the schedule mixed in too little (${claims} claims, ${expiries} expiries)`)

  for (const id of taskIds) {
    const task: { stage: string; dead_letter_reason: string | null } = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
    const runs: Array<{ attempt: number; status: string; started_at_ms: number; ended_at_ms: number | null }> =
      expectStatus(await s.request('GET', `/tasks/${id}/runs?limit=1000`), 200).body.items
    const completed = runs.filter((r) => r.status === 'completed').length
    if (task.stage === 'd') {
      assert.is(task.dead_letter_reason, null, `${id} both completed and dead-lettered`)
      assert.is(completed, 1, `${id} completed ${completed} times`)
      assert.is(completions.get(id), 1, `${id} acknowledged ${completions.get(id)} completions`)
    } else {
      assert.is(task.dead_letter_reason, 'max_attempts_exceeded', `${id} was lost in stage ${task.stage}`)
      assert.is(completed, 0)
      assert.is(runs.filter((r) => r.status === 'failed' || r.status === 'stale').length, MAX_ATTEMPTS)
    }
    // No double claim: each run ended before the next attempt started.
    runs.forEach((r, i) => {
      assert.is(r.attempt, i + 1)
      assert.not.equal(r.status, 'running', `${id} still has a running run`)
      if (i > 0) assert.ok(runs[i - 1].ended_at_ms! <= r.started_at_ms, `${id}: attempts ${i} and ${i + 1} overlap`)
    })
  }
  await assertConsistent(s)
})

test.run()
