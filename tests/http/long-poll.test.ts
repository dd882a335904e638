import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { performance } from 'node:perf_hooks'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createTask, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { claimClient, tick, waitersReach } from '../helpers/long-poll.ts'

const test = suite<{ s: TestServer }>('long-poll claims', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer({}, { realTime: true }) })
test.after(async (ctx) => ctx.s.close())

// Every test ends by checking that each live lease of its roles was delivered to a client.
let client: ReturnType<typeof claimClient>
test.before.each(({ s }) => { client = claimClient(s) })
test.after.each(() => client.assertEveryLeaseDelivered())

const waitClaim = (_s: TestServer, role: string, waitMs: number, agent = unique('agent'), signal?: AbortSignal) =>
  client.claim(role, waitMs, agent, signal)

const WOKEN_WITHIN_MS = 500

test('a waiting claim gets a task as soon as it is created', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const pending = waitClaim(s, role, 5_000)
  await waitersReach(s, 1)
  const created = performance.now()
  const taskId = await createTask(s, pipelineId)
  const res = await pending
  const latency = performance.now() - created
  assert.is(res.status, 200)
  assert.is(res.body.task.id, taskId)
  // Woken by the commit, not by a re-check or the deadline; bench/ (long-poll) measures the latency itself:
  // here the suite runs both drivers at once on 2 cores.
  assert.ok(latency < WOKEN_WITHIN_MS, `took ${latency} ms`)
})

test('a waiting claim with nothing to find answers 204 after wait_ms', async ({ s }) => {
  const { role } = await singleStage(s)
  const started = performance.now()
  const res = await waitClaim(s, role, 500)
  const elapsed = performance.now() - started
  assert.is(res.status, 204)
  assert.ok(elapsed >= 480 && elapsed < 700, `took ${elapsed} ms`)
})

test('the longest-waiting claim gets the task first; each task goes to exactly one waiter', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const first = waitClaim(s, role, 3_000, 'first')
  await waitersReach(s, 1)
  const rest = Array.from({ length: 9 }, (_, i) => waitClaim(s, role, 1_500, `later-${i}`))
  await waitersReach(s, 10)
  await createTask(s, pipelineId)
  const winner = await first
  assert.is(winner.status, 200)
  assert.is(winner.body.run.agent_id, 'first')
  for (let i = 0; i < 4; i++) await createTask(s, pipelineId)
  const statuses = (await Promise.all(rest)).map((r) => r.status)
  assert.is(statuses.filter((x) => x === 200).length, 4)
  assert.is(statuses.filter((x) => x === 204).length, 5)
})

test('a task assigned to an agent reaches it even when other agents of the role waited longer', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const alice = waitClaim(s, role, 1_500, 'alice')
  await waitersReach(s, 1)
  const bob = waitClaim(s, role, 5_000, 'bob')
  await waitersReach(s, 2)
  const created = performance.now()
  const taskId = await createTask(s, pipelineId, { assigned_agent_id: 'bob' })
  const res = await bob
  assert.is(res.status, 200)
  assert.is(res.body.task.id, taskId)
  assert.ok(performance.now() - created < WOKEN_WITHIN_MS)
  assert.is((await alice).status, 204)
})

test('a client that disconnects while waiting never receives a lease', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const abort = new AbortController()
  const gone = waitClaim(s, role, 5_000, 'gone', abort.signal).catch(() => null)
  await waitersReach(s, 1)
  abort.abort()
  await gone
  await waitersReach(s, 0)
  const taskId = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  client.delivered.add(lease.run.id)
  assert.is(lease.task.id, taskId)
})

test('work made claimable by a retry delay wakes a waiting claim when the delay ends', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId, { retry_policy: { retry_delay_ms: 300 } })
  const lease = (await claim(s, role))!
  client.delivered.add(lease.run.id)
  const pending = waitClaim(s, role, 5_000)
  await waitersReach(s, 1)
  const failedAt = performance.now()
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'x' }, bearer(lease.lease_token)), 200)
  const res = await pending
  const elapsed = performance.now() - failedAt
  assert.is(res.status, 200)
  assert.ok(elapsed >= 250 && elapsed < 800, `woke after ${elapsed} ms`)
})

test('resuming a paused pipeline wakes its waiting claims', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId)
  expectStatus(await s.request('POST', `/pipelines/${pipelineId}/pause`), 200)
  const pending = waitClaim(s, role, 5_000)
  await waitersReach(s, 1)
  expectStatus(await s.request('POST', `/pipelines/${pipelineId}/resume`), 200)
  assert.is((await pending).status, 200)
})

test('1,000 waiting claims stay cheap: little memory, no work while idle', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const rssBefore = process.memoryUsage().rss
  // wait_ms long enough that none times out on a loaded machine; those still waiting at the end are aborted
  // (their client gone: the server drops them, as it would a real agent's).
  const stop = new AbortController()
  let answered = 0
  const pending = Array.from({ length: 1_000 }, () =>
    waitClaim(s, role, 60_000, unique('agent'), stop.signal).then((r) => { answered++; return r }))
  const settled = Promise.allSettled(pending)
  try {
    await waitersReach(s, 1_000, 30_000)
    // Idle means no work per waiter: while nothing changes, claims are not tried and claimants not read. The CPU
    // this takes is measured by bench/ (long-poll), on the server alone; here the clients share the process.
    const { app } = s.docket
    const reads = app.driver.reads
    const realClaimants = reads.claimants
    const realCommit = app.commit
    let work = 0
    reads.claimants = (...a) => { work++; return realClaimants.apply(reads, a) }
    app.commit = (...a) => { work++; return realCommit(...a) }
    try {
      await tick(500)
    } finally {
      reads.claimants = realClaimants
      app.commit = realCommit
    }
    // On PostgreSQL the waiters re-check every 2 s (a NOTIFY may be lost): one read for the role, never one per
    // waiter. Polling per waiter would be a thousand.
    assert.ok(work <= 4, `${work} claims tried or claimants read while idle`)
    const rssGrowthMb = (process.memoryUsage().rss - rssBefore) / 2 ** 20
    // A loose bound (client and server share this process); bench/ measures the server alone.
    assert.ok(rssGrowthMb < 100, `RSS grew ${rssGrowthMb} MiB`)
    for (let i = 0; i < 10; i++) await createTask(s, pipelineId)
    for (const until = performance.now() + 10_000; answered < 10 && performance.now() < until;) await tick(5)
    await tick(50) // an 11th answer would show here
  } finally {
    stop.abort()
  }
  const claimed = (await settled).filter((r) => r.status === 'fulfilled' && r.value.status === 200)
  assert.is(claimed.length, 10)
  await waitersReach(s, 0)
})

test.run()
