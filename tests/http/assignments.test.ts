import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus } from '../helpers/fixtures.ts'

type Ctx = { s: TestServer; pipelineId: string }
const test = suite<Ctx>('assignments', {} as Ctx)
test.before(async (ctx) => {
  ctx.s = await startServer()
  ctx.pipelineId = await createPipeline(ctx.s)
})
test.after(async (ctx) => ctx.s.close())

const assign = (s: TestServer, taskId: string, body: unknown) => s.request('POST', `/tasks/${taskId}/assignments`, body)
const list = async (s: TestServer, taskId: string) => expectStatus(await s.request('GET', `/tasks/${taskId}/assignments`), 200).body
const active = async (s: TestServer, taskId: string) =>
  (await list(s, taskId)).filter((a: { active: boolean }) => a.active).map((a: { agent_id: string }) => a.agent_id)

test('assigning answers 201 and lists the assignment with its task_id', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId)
  assert.equal(expectStatus(await assign(s, id, { agent_id: 'ann', assigned_by: 'boss' }), 201).body, { status: 'assigned' })
  const now = s.clock.now()
  assert.equal(await list(s, id), [{ task_id: id, agent_id: 'ann', assigned_by: 'boss', active: true, created_at_ms: now, updated_at_ms: now }])
})

test('assigned_by may be absent or null', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId)
  expectStatus(await assign(s, id, { agent_id: 'ann' }), 201)
  expectStatus(await assign(s, id, { agent_id: 'bob', assigned_by: null }), 201)
  assert.equal((await list(s, id)).map((a: { assigned_by: unknown }) => a.assigned_by), [null, null])
})

test('a new assignment replaces the active one and keeps the old as history', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId, { assigned_agent_id: 'ann', assigned_by: 'boss' })
  s.clock.advance(10)
  expectStatus(await assign(s, id, { agent_id: 'bob' }), 201)
  const rows = await list(s, id)
  assert.equal(rows.map((a: { agent_id: string; active: boolean }) => [a.agent_id, a.active]), [['ann', false], ['bob', true]])
  assert.is(rows[0].updated_at_ms, s.clock.now())
  const detail = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.equal(detail.assignments.map((a: Record<string, unknown>) => Object.keys(a)), [
    ['agent_id', 'assigned_by', 'active', 'created_at_ms', 'updated_at_ms'],
    ['agent_id', 'assigned_by', 'active', 'created_at_ms', 'updated_at_ms'],
  ])
})

test('reassigning an earlier agent reactivates its row, keeping created_at_ms', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId)
  const created = s.clock.now()
  expectStatus(await assign(s, id, { agent_id: 'ann', assigned_by: 'boss' }), 201)
  s.clock.advance(5)
  expectStatus(await assign(s, id, { agent_id: 'bob' }), 201)
  s.clock.advance(5)
  expectStatus(await assign(s, id, { agent_id: 'ann' }), 201)
  const rows = await list(s, id)
  assert.is(rows.length, 2)
  assert.equal(await active(s, id), ['ann'])
  const ann = rows.find((a: { agent_id: string }) => a.agent_id === 'ann')
  assert.equal([ann.created_at_ms, ann.updated_at_ms, ann.assigned_by], [created, s.clock.now(), null])
})

test('unassigning answers 200 and leaves no active assignment', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId, { assigned_agent_id: 'ann' })
  assert.equal(expectStatus(await s.request('DELETE', `/tasks/${id}/assignments/ann`), 200).body, { status: 'unassigned' })
  assert.equal(await active(s, id), [])
  assert.is((await list(s, id)).length, 1)
})

test('unassigning an inactive, unknown or foreign assignment is 404 not_found', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId, { assigned_agent_id: 'ann' })
  expectStatus(await assign(s, id, { agent_id: 'bob' }), 201)
  expectError(await s.request('DELETE', `/tasks/${id}/assignments/ann`), 404, 'not_found')
  expectError(await s.request('DELETE', `/tasks/${id}/assignments/nobody`), 404, 'not_found')
  expectError(await s.request('DELETE', '/tasks/ghost/assignments/bob'), 404, 'not_found')
  assert.equal(await active(s, id), ['bob'])
})

test('agent ids with +, spaces, slashes and Unicode survive the path', async ({ s, pipelineId }) => {
  for (const agent of ['a+b', 'a b', 'a/b', 'agënt ☃', '%41', '.x']) {
    const id = await createTask(s, pipelineId)
    expectStatus(await assign(s, id, { agent_id: agent }), 201)
    expectStatus(await s.request('DELETE', `/tasks/${id}/assignments/${encodeURIComponent(agent)}`), 200)
    assert.equal(await active(s, id), [], agent)
  }
  const id = await createTask(s, pipelineId)
  expectStatus(await assign(s, id, { agent_id: 'x+y' }), 201)
  expectStatus(await s.request('DELETE', `/tasks/${id}/assignments/x+y`), 200)
})

test('assigning to an unknown task is 404 task_not_found', async ({ s }) => {
  expectError(await assign(s, 'ghost', { agent_id: 'ann' }), 404, 'task_not_found')
})

test('listing the assignments of an unknown task is 404 not_found', async ({ s }) => {
  expectError(await s.request('GET', '/tasks/ghost/assignments'), 404, 'not_found')
})

test('bad bodies are 400 invalid_json or validation_failed naming the field', async ({ s, pipelineId }) => {
  const id = await createTask(s, pipelineId)
  for (const body of ['{', '[]', '', 'null']) expectError(await assign(s, id, body), 400, 'invalid_json')
  const cases: Array<[unknown, string]> = [[{}, 'agent_id'], [{ agent_id: 1 }, 'agent_id'], [{ agent_id: null }, 'agent_id'], [{ agent_id: 'a', assigned_by: 2 }, 'assigned_by']]
  for (const [body, path] of cases) {
    const res = expectError(await assign(s, id, body), 400, 'validation_failed')
    assert.is(res.body.error.details[0].path, path)
  }
  assert.equal(await list(s, id), [])
})

test.run()
