import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createTask, expectError, expectStatus, singleStage } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('release', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const release = (s: TestServer, leaseId: string, token: string, body?: unknown) =>
  s.request('POST', `/leases/${leaseId}/release`, body, bearer(token))

test('a released task is claimable again at once, its run ends released and no attempt counts', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId, { retry_policy: { max_attempts: 1 } })
  const first = (await claim(s, role))!
  const res = expectStatus(await release(s, first.lease_id, first.lease_token, { reason: 'not my kind of task' }), 200)
  assert.equal(res.body, { status: 'released', next_eligible_at_ms: s.clock.now() })
  const run = expectStatus(await s.request('GET', `/runs/${first.run.id}`), 200).body
  assert.is(run.status, 'released')
  const events = expectStatus(await s.request('GET', `/runs/${first.run.id}/events`), 200).body.items
  assert.equal(events.map((e: any) => [e.kind, e.data.reason]), [['released', 'not my kind of task']])
  // max_attempts is 1: a counted attempt would have dead-lettered the task.
  const second = (await claim(s, role))!
  assert.is(second.task.id, taskId)
  assert.is(second.run.attempt, 2)
  assert.is(second.task.dead_letter_reason, null)
})

test('with delay_ms the task waits that long before it is claimable again', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  const res = expectStatus(await release(s, lease.lease_id, lease.lease_token, { delay_ms: 5_000 }), 200)
  assert.is(res.body.next_eligible_at_ms, s.clock.now() + 5_000)
  assert.is(await claim(s, role), null)
  s.clock.advance(5_000)
  assert.is((await claim(s, role))!.task.id, lease.task.id)
})

test('the body may be left out; a bad one is 400 and releases nothing', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  expectError(await release(s, lease.lease_id, lease.lease_token, { delay_ms: -1 }), 400, 'validation_failed')
  expectError(await release(s, lease.lease_id, lease.lease_token, { why: 'x' }), 400, 'validation_failed')
  assert.is(await claim(s, role), null, 'still leased')
  expectStatus(await release(s, lease.lease_id, lease.lease_token), 200)
})

test('release needs the lease token and a live lease', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId)
  await createTask(s, pipelineId)
  const lease = (await claim(s, role, { lease_ttl_ms: 1_000 }))!
  const other = (await claim(s, role))!
  expectError(await s.request('POST', `/leases/${lease.lease_id}/release`), 401, 'unauthorized')
  expectError(await release(s, lease.lease_id, other.lease_token), 401, 'unauthorized')
  expectError(await release(s, 'ghost', lease.lease_token), 404, 'not_found')
  s.clock.advance(1_000)
  expectError(await release(s, lease.lease_id, lease.lease_token), 410, 'expired')
  expectStatus(await release(s, other.lease_id, other.lease_token), 200)
  expectError(await release(s, other.lease_id, other.lease_token), 404, 'not_found')
})

test.run()
