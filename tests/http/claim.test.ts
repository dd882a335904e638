import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createPipeline, createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('claim', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('claim picks the highest priority, then the oldest task', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const low = await createTask(s, pipelineId, { priority: 1 })
  const highOld = await createTask(s, pipelineId, { priority: 5 })
  s.clock.advance(1)
  const highNew = await createTask(s, pipelineId, { priority: 5 })
  assert.equal([(await claim(s, role))!.task.id, (await claim(s, role))!.task.id, (await claim(s, role))!.task.id], [highOld, highNew, low])
  assert.is(await claim(s, role), null)
})

test('the claim response has the task, a running run, a lease id and a 64-hex token', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const lease = (await claim(s, role, { lease_ttl_ms: 60_000 }))!
  assert.is(lease.task.id, taskId)
  assert.is(lease.run.status, 'running')
  assert.is(lease.run.attempt, 1)
  assert.is(lease.run.ended_at_ms, null)
  assert.match(lease.lease_token, /^[0-9a-f]{64}$/)
  assert.is(lease.expires_at_ms, s.clock.now() + 60_000)
})

test('claim never starves behind blocked higher-priority tasks', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const blocker = await createTask(s, pipelineId, { priority: -100 })
  for (let i = 0; i < 30; i++) await createTask(s, pipelineId, { priority: 100, dependencies: [blocker] })
  for (let i = 0; i < 30; i++) await createTask(s, pipelineId, { priority: 90, assigned_agent_id: 'someone-else' })
  assert.is((await claim(s, role))!.task.id, blocker)
})

test('tasks with unresolved dependencies wait; completing the upstream frees them', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const up = await createTask(s, pipelineId)
  const down = await createTask(s, pipelineId, { priority: 10, dependencies: [up] })
  const lease = (await claim(s, role))!
  assert.is(lease.task.id, up)
  assert.is(await claim(s, role), null)
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete' }, bearer(lease.lease_token)), 200)
  assert.is((await claim(s, role))!.task.id, down)
})

test('an assigned task is claimable only by its assignee', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId, { assigned_agent_id: 'alice' })
  assert.is(await claim(s, role, { agent_id: 'bob' }), null)
  assert.is((await claim(s, role, { agent_id: 'alice' }))!.task.id, taskId)
})

test('per_state concurrency limits live leases per pipeline and stage', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  for (let i = 0; i < 3; i++) await createTask(s, pipelineId)
  const limit = { concurrency: { per_state: { work: 2 } } }
  assert.ok(await claim(s, role, limit))
  assert.ok(await claim(s, role, limit))
  assert.is(await claim(s, role, limit), null)
  assert.ok(await claim(s, role))
})

test('terminal stages are never claimable and unknown roles get 204', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  await createTask(s, pipelineId)
  assert.is(await claim(s, unique('nobody')), null)
})

test('a paused pipeline hands out nothing until resumed', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  assert.is(expectStatus(await s.request('POST', `/pipelines/${pipelineId}/pause`), 200).body.paused, true)
  assert.is(await claim(s, role), null)
  assert.is(expectStatus(await s.request('POST', `/pipelines/${pipelineId}/resume`), 200).body.paused, false)
  assert.is((await claim(s, role))!.task.id, taskId)
})

test('not_before_ms keeps a task unclaimable until then', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId, { not_before_ms: s.clock.now() + 5_000 })
  assert.is(await claim(s, role), null)
  s.clock.advance(5_000)
  assert.ok(await claim(s, role))
})

test('lease_ttl_ms outside 1000..86400000 and bad bodies are 400', async ({ s }) => {
  const { role } = await singleStage(s)
  for (const ttl of [0, 999, 86_400_001, 1.5, '5000']) {
    expectError(await s.request('POST', '/leases/claim', { agent_id: 'a', agent_role: role, lease_ttl_ms: ttl }), 400, 'validation_failed')
  }
  expectError(await s.request('POST', '/leases/claim', { agent_role: role }), 400, 'validation_failed')
  expectError(await s.request('POST', '/leases/claim', '{nope'), 400, 'invalid_json')
  expectError(await s.request('POST', '/leases/claim', { agent_id: 'a', agent_role: role, wait_ms: 60_001 }), 400, 'validation_failed')
})

test('an idempotent claim replays the same lease with a fresh token; the old token dies', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId)
  const key = { 'idempotency-key': unique('claim') }
  const body = { agent_id: 'a1', agent_role: role }
  const first = expectStatus(await s.request('POST', '/leases/claim', body, key), 200).body
  const again = expectStatus(await s.request('POST', '/leases/claim', body, key), 200).body
  assert.is(again.run.id, first.run.id)
  assert.is(again.lease_id, first.lease_id)
  assert.is.not(again.lease_token, first.lease_token)
  expectError(await s.request('POST', `/leases/${first.lease_id}/heartbeat`, undefined, bearer(first.lease_token)), 401, 'unauthorized')
  expectStatus(await s.request('POST', `/leases/${again.lease_id}/heartbeat`, undefined, bearer(again.lease_token)), 200)
  const [{ body: stored }] = await s.sql('SELECT body FROM idempotency_keys WHERE key = ?', key['idempotency-key'])
  assert.not.ok(stored.includes(first.lease_token) || stored.includes(again.lease_token))
})

test('a 204 claim is not stored: a retry with the same key may find work', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const key = { 'idempotency-key': unique('claim') }
  const body = { agent_id: 'a1', agent_role: role }
  expectStatus(await s.request('POST', '/leases/claim', body, key), 204)
  await createTask(s, pipelineId)
  expectStatus(await s.request('POST', '/leases/claim', body, key), 200)
})

test('a claim can be limited to one pipeline', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const otherPipeline = await createPipeline(s, {
    initial: 'work', states: { work: { agent_role: role }, done: { terminal: true } }, transitions: [{ from: 'work', to: 'done', trigger: 'complete' }],
  })
  const mine = await createTask(s, pipelineId, { priority: 1 })
  await createTask(s, otherPipeline, { priority: 9 })
  assert.is((await claim(s, role, { pipeline_id: pipelineId }))!.task.id, mine)
  assert.is(await claim(s, role, { pipeline_id: pipelineId }), null)
  assert.is((await claim(s, role))!.task.pipeline_id, otherPipeline)
})

test.run()
