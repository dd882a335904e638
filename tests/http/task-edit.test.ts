import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createPipeline, createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { claimClient, waitersReach } from '../helpers/long-poll.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('task edit', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({}, { realTime: true }) })
test.after(async (ctx) => ctx.s.close())

const edit = (s: TestServer, id: string, body: unknown) => s.request('PATCH', `/tasks/${id}`, body)
const events = async (s: TestServer, id: string) => expectStatus(await s.request('GET', `/tasks/${id}/events`), 200).body.items

test('an edit changes the fields sent, bumps task_version and is recorded as a task event', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId, { metadata: { a: 1 } })
  const res = expectStatus(await edit(s, id, { title: 'new', priority: 7, expected_task_version: 1 }), 200)
  assert.is(res.body.title, 'new')
  assert.is(res.body.priority, 7)
  assert.is(res.body.description, 'd')
  assert.equal(res.body.metadata, { a: 1 })
  assert.is(res.body.task_version, 2)
  const [e] = await events(s, id)
  assert.is(e.kind, 'edited')
  assert.equal(e.data.fields, { title: 'new', priority: 7 })
  assert.is(e.data.to_task_version, 2)
})

test('metadata replaces; metadata_merge is a JSON merge patch', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId, { metadata: { a: 1, b: { c: 2, d: 3 }, e: [1] } })
  const merged = expectStatus(await edit(s, id, { metadata_merge: { a: null, b: { c: 9 }, e: [2], f: 'x' } }), 200)
  assert.equal(merged.body.metadata, { b: { c: 9, d: 3 }, e: [2], f: 'x' })
  const replaced = expectStatus(await edit(s, id, { metadata: { z: true } }), 200)
  assert.equal(replaced.body.metadata, { z: true })
})

test('retry_policy fields replace one by one; null resets to the default', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId, { retry_policy: { max_attempts: 3, retry_delay_ms: 500, dead_letter_stage: 'parked' } })
  const one = expectStatus(await edit(s, id, { retry_policy: { max_attempts: 5 } }), 200).body
  assert.equal([one.max_attempts, one.retry_delay_ms, one.dead_letter_stage], [5, 500, 'parked'])
  const reset = expectStatus(await edit(s, id, { retry_policy: null }), 200).body
  assert.equal([reset.max_attempts, reset.retry_delay_ms, reset.dead_letter_stage], [null, 0, null])
})

test('a stale expected_task_version is 409 task_version_mismatch and changes nothing', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  expectStatus(await edit(s, id, { priority: 1 }), 200)
  expectError(await edit(s, id, { priority: 2, expected_task_version: 1 }), 409, 'task_version_mismatch')
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.equal([task.priority, task.task_version], [1, 2])
  assert.is((await events(s, id)).length, 1)
})

test('bad input is 400 with details; an unknown task is 404', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const cases: unknown[] = [
    {},
    { expected_task_version: 1 },
    { priority: 1.5 },
    { metadata: {}, metadata_merge: {} },
    { retry_policy: { max_attempts: 0 } },
    { not_before_ms: -1 },
    { colour: 'red' },
  ]
  for (const body of cases) {
    const res = expectError(await edit(s, id, body), 400, 'validation_failed')
    assert.ok(Array.isArray(res.body.error.details) && res.body.error.details.length > 0, JSON.stringify(body))
  }
  expectError(await edit(s, id, { retry_policy: { dead_letter_stage: 'nowhere' } }), 400, 'validation_failed')
  expectError(await edit(s, 'ghost', { priority: 1 }), 404, 'not_found')
})

test('claim order follows a new priority at once', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const first = await createTask(s, pipelineId)
  const second = await createTask(s, pipelineId)
  expectStatus(await edit(s, second, { priority: 10 }), 200)
  assert.is((await claim(s, role))!.task.id, second)
  expectStatus(await edit(s, first, { priority: -1 }), 200)
  assert.is((await claim(s, role))!.task.id, first)
})

test('an edit that makes a task claimable wakes a waiting claim', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId, { not_before_ms: Date.now() + 3_600_000 })
  const client = claimClient(s)
  const waiting = client.claim(role, 5000, unique('agent'))
  await waitersReach(s, 1)
  const started = performance.now()
  expectStatus(await edit(s, id, { not_before_ms: null }), 200)
  const answer = await waiting
  assert.is(answer.status, 200)
  assert.is(answer.body.task.id, id)
  assert.ok(performance.now() - started < 2000)
})

test('assigned_agent_id assigns and null unassigns; who may claim follows', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const agent = unique('agent')
  expectStatus(await edit(s, id, { assigned_agent_id: agent }), 200)
  assert.is(await claim(s, role, { agent_id: unique('other') }), null)
  const assignments = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body.assignments
  assert.equal(assignments.map((a: any) => [a.agent_id, a.active]), [[agent, true]])
  expectStatus(await edit(s, id, { assigned_agent_id: null }), 200)
  assert.is((await claim(s, role, { agent_id: unique('other') }))!.task.id, id)
})

test('an edit of a leased task bumps the version its holder must then match', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  expectStatus(await edit(s, id, { description: 'clarified' }), 200)
  const stale = await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete', expected_task_version: 1 },
    { authorization: `Bearer ${lease.lease_token}` })
  expectError(stale, 409, 'task_version_mismatch')
})

test('editing a retry delay applies to the next failed attempt', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const id = await createTask(s, pipelineId, { retry_policy: { retry_delay_ms: 0 } })
  const task = expectStatus(await edit(s, id, { retry_policy: { retry_delay_ms: 60_000 } }), 200).body
  assert.is(task.retry_delay_ms, 60_000)
})

test.run()
