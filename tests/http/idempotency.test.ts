import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { taskBody, taskIdsOf } from '../helpers/tasks.ts'

type Ctx = { s: TestServer; pipelineId: string }
const test = suite<Ctx>('idempotency', {} as Ctx)
test.before(async (ctx) => {
  ctx.s = await startServer()
  ctx.pipelineId = await createPipeline(ctx.s)
})
test.after(async (ctx) => ctx.s.close())

const DAY_MS = 24 * 60 * 60 * 1000
const withKey = (key: string) => ({ 'idempotency-key': key })
const records = async (s: TestServer, key: string) => (await s.sql('SELECT count(*) AS n FROM idempotency_keys WHERE key = ?', key))[0].n

test('a retry with the same key and body replays the answer without a second task', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const key = unique('key')
  const first = expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  const again = expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  assert.is(again.text, first.text)
  assert.equal(await taskIdsOf(s, pipelineId), [first.body.id])
})

test('the same key with a different body is 409 idempotency_conflict', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const key = unique('key')
  expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { title: 'other' }), withKey(key)), 409, 'idempotency_conflict')
  assert.is((await taskIdsOf(s, pipelineId)).length, 1)
})

test('the key is scoped to the method and the raw path', async ({ s, pipelineId }) => {
  const key = unique('key')
  const a = await createTask(s, pipelineId)
  const b = await createTask(s, pipelineId)
  expectStatus(await s.request('POST', `/tasks/${a}/assignments`, { agent_id: 'x' }, withKey(key)), 201)
  expectStatus(await s.request('POST', `/tasks/${b}/assignments`, { agent_id: 'y' }, withKey(key)), 201)
  expectStatus(await s.request('POST', `/tasks/${b}/assignments/`, { agent_id: 'z' }, withKey(key)), 201)
  expectStatus(await s.request('DELETE', `/tasks/${b}/assignments/z`, undefined, withKey(key)), 200)
  assert.is(await records(s, key), 4)
})

test('bulk create, dependency and assignment writes replay too', async ({ s, pipelineId }) => {
  const key = unique('key')
  const bulk = { tasks: [taskBody(pipelineId), taskBody(pipelineId)] }
  const first = expectStatus(await s.request('POST', '/tasks/bulk', bulk, withKey(key)), 201)
  assert.is(expectStatus(await s.request('POST', '/tasks/bulk', bulk, withKey(key)), 201).text, first.text)
  const [a, b] = first.body.ids
  expectStatus(await s.request('POST', `/tasks/${a}/dependencies`, { depends_on_task_id: b }, withKey(key)), 201)
  expectStatus(await s.request('POST', `/tasks/${a}/dependencies`, { depends_on_task_id: b }, withKey(key)), 201)
  expectStatus(await s.request('DELETE', `/tasks/${a}/dependencies/${b}`, undefined, withKey(key)), 204)
  const replayed = expectStatus(await s.request('DELETE', `/tasks/${a}/dependencies/${b}`, undefined, withKey(key)), 204)
  assert.is(replayed.text, '')
  assert.is(replayed.headers.get('content-type'), null)
  const name = unique('p')
  const def = { initial: 'a', states: { a: { agent_role: unique('r') }, z: { terminal: true } }, transitions: [{ from: 'a', to: 'z', trigger: 'go' }] }
  const p1 = expectStatus(await s.request('POST', '/pipelines', { name, definition: def }, withKey(key)), 201)
  assert.is(expectStatus(await s.request('POST', '/pipelines', { name, definition: def }, withKey(key)), 201).text, p1.text)
})

test('a failed request stores nothing, so a retry runs again', async ({ s, pipelineId }) => {
  const key = unique('key')
  const id = await createTask(s, pipelineId)
  expectError(await s.request('DELETE', `/tasks/${id}/assignments/ann`, undefined, withKey(key)), 404, 'not_found')
  assert.is(await records(s, key), 0)
  expectStatus(await s.request('POST', `/tasks/${id}/assignments`, { agent_id: 'ann' }, withKey(unique('key'))), 201)
  expectStatus(await s.request('DELETE', `/tasks/${id}/assignments/ann`, undefined, withKey(key)), 200)
  assert.is(await records(s, key), 1)
  expectError(await s.request('POST', '/tasks', taskBody('ghost'), withKey(key)), 404, 'pipeline_not_found')
  expectError(await s.request('POST', '/tasks', '{', withKey(key)), 400, 'invalid_json')
  assert.is(await records(s, key), 1)
})

test('GET ignores the header', async ({ s, pipelineId }) => {
  const key = unique('key')
  expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}`, undefined, withKey(key)), 200)
  assert.is(await records(s, key), 0)
})

test('records older than 24 h are swept and then forgotten', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const key = unique('key')
  expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  s.clock.advance(DAY_MS - 1)
  await s.docket.sweepIdempotency()
  assert.is(await records(s, key), 1)
  expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { title: 'other' }), withKey(key)), 409, 'idempotency_conflict')
  s.clock.advance(1)
  await s.docket.sweepIdempotency()
  assert.is(await records(s, key), 0)
  expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId, { title: 'other' }), withKey(key)), 201)
  assert.is((await taskIdsOf(s, pipelineId)).length, 2)
})

test('a record past 24 h is not replayed even before the sweep runs', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const key = unique('key')
  const first = expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  s.clock.advance(DAY_MS)
  const second = expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  assert.is.not(second.body.id, first.body.id)
  const third = expectStatus(await s.request('POST', '/tasks', taskBody(pipelineId), withKey(key)), 201)
  assert.is(third.body.id, second.body.id)
})

test('concurrent requests with one key create one task', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const key = unique('key')
  const answers = await Promise.all(Array.from({ length: 20 }, () => s.request('POST', '/tasks', taskBody(pipelineId), withKey(key))))
  const ids = new Set(answers.map((r) => expectStatus(r, 201).body.id))
  assert.is(ids.size, 1)
  assert.equal(await taskIdsOf(s, pipelineId), [...ids])
})

test('concurrent requests with one key and different bodies: one wins, the rest conflict', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const key = unique('key')
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => s.request('POST', '/tasks', taskBody(pipelineId, { title: `t${i}` }), withKey(key))))
  assert.is(answers.filter((r) => r.status === 201).length, 1)
  for (const r of answers) if (r.status !== 201) expectError(r, 409, 'idempotency_conflict')
  assert.is((await taskIdsOf(s, pipelineId)).length, 1)
})

test.run()
