import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createPipeline, createTask, expectError, expectStatus, singleStage } from '../helpers/fixtures.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('task delete', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const remove = (s: TestServer, id: string, query = '') => s.request('DELETE', `/tasks/${id}${query}`)
const count = async (s: TestServer, sql: string, ...args: unknown[]) => Number((await s.sql(sql, ...args))[0].n)
const stageCount = async (s: TestServer, stage: string) =>
  ((await s.request('GET', '/health')).body.tasks_by_stage as Array<{ stage: string; count: number }>).find((r) => r.stage === stage)?.count ?? 0

test('a delete answers 204 and takes the runs, events, artifacts and task events with it', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'boom' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
  expectStatus(await s.request('POST', '/artifacts', { task_id: id, kind: 'log', uri: 'file:///a' }), 201)
  expectStatus(await s.request('POST', '/artifacts', { run_id: lease.run.id, kind: 'log', uri: 'file:///b' }), 201)
  expectStatus(await s.request('PATCH', `/tasks/${id}`, { priority: 3 }), 200)
  const before = await stageCount(s, 'work')
  expectStatus(await remove(s, id), 204)
  expectError(await s.request('GET', `/tasks/${id}`), 404, 'not_found')
  assert.is(await count(s, 'SELECT count(*) AS n FROM runs WHERE task_id = ?', id), 0)
  assert.is(await count(s, 'SELECT count(*) AS n FROM events WHERE run_id = ?', lease.run.id), 0)
  assert.is(await count(s, 'SELECT count(*) AS n FROM artifacts WHERE task_id = ? OR run_id = ?', id, lease.run.id), 0)
  assert.is(await count(s, 'SELECT count(*) AS n FROM task_events WHERE task_id = ?', id), 0)
  assert.is(await stageCount(s, 'work'), before - 1)
  expectError(await remove(s, id), 404, 'not_found')
})

test('a live lease is 409 lease_held; force=true cancels the run and deletes', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  expectError(await remove(s, id), 409, 'lease_held')
  expectStatus(await s.request('GET', `/tasks/${id}`), 200)
  expectStatus(await remove(s, id, '?force=true'), 204)
  const heartbeat = await s.request('POST', `/leases/${lease.lease_id}/heartbeat`, {}, { authorization: `Bearer ${lease.lease_token}` })
  assert.ok(heartbeat.status === 404 || heartbeat.status === 409, heartbeat.text)
  expectError(await remove(s, 'ghost', '?force=maybe'), 400, 'validation_failed')
})

test('dependents stop waiting on a deleted task and become claimable', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const upstream = await createTask(s, pipelineId, { priority: -5 })
  const down = await createTask(s, pipelineId, { dependencies: [upstream], priority: 5 })
  assert.is(await count(s, 'SELECT open_dependencies AS n FROM tasks WHERE id = ?', down), 1)
  expectStatus(await remove(s, upstream), 204)
  assert.is(await count(s, 'SELECT open_dependencies AS n FROM tasks WHERE id = ?', down), 0)
  assert.equal(expectStatus(await s.request('GET', `/tasks/${down}/dependencies`), 200).body, [])
  assert.is((await claim(s, role))!.task.id, down)
})

test('deleting a task in a terminal stage leaves its dependents counts alone', async ({ s }) => {
  const pipelineId = await createPipeline(s, {
    initial: 'done', states: { done: { terminal: true }, redo: { agent_role: 'x' } }, transitions: [{ from: 'redo', to: 'done', trigger: 'f' }],
  })
  const { pipelineId: other } = await singleStage(s)
  const done = await createTask(s, pipelineId)
  const blocker = await createTask(s, other)
  const down = await createTask(s, other, { dependencies: [done, blocker] })
  assert.is(await count(s, 'SELECT open_dependencies AS n FROM tasks WHERE id = ?', down), 1)
  expectStatus(await remove(s, done), 204)
  assert.is(await count(s, 'SELECT open_dependencies AS n FROM tasks WHERE id = ?', down), 1)
  expectStatus(await remove(s, down), 204)
  assert.equal(expectStatus(await s.request('GET', `/tasks/${blocker}`), 200).body.dependencies, [])
})

test.run()
