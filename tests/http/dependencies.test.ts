import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus, unique } from '../helpers/fixtures.ts'

type Ctx = { s: TestServer; pipelineId: string }
const test = suite<Ctx>('dependencies', {} as Ctx)
test.before(async (ctx) => {
  ctx.s = await startServer()
  ctx.pipelineId = await createPipeline(ctx.s)
})
test.after(async (ctx) => ctx.s.close())

const add = (s: TestServer, taskId: string, dependsOn: unknown) =>
  s.request('POST', `/tasks/${taskId}/dependencies`, { depends_on_task_id: dependsOn })
const list = async (s: TestServer, taskId: string) => expectStatus(await s.request('GET', `/tasks/${taskId}/dependencies`), 200).body
/** The counter the claim index filters on: upstream tasks not yet in a terminal stage. */
const openCount = async (s: TestServer, taskId: string) => (await s.sql('SELECT open_dependencies FROM tasks WHERE id = ?', taskId))[0].open_dependencies

/** Tasks of this pipeline start in a terminal stage, so depending on one is resolved at once. */
async function doneTask(s: TestServer): Promise<string> {
  const pipelineId = await createPipeline(s, {
    initial: 'done',
    states: { done: { terminal: true }, redo: { agent_role: unique('r') } },
    transitions: [{ from: 'redo', to: 'done', trigger: 'finish' }],
  })
  return createTask(s, pipelineId)
}

test('adding a dependency answers 201 and lists it unresolved', async ({ s, pipelineId }) => {
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  const res = expectStatus(await add(s, a, b), 201)
  assert.equal(res.body, { status: 'created' })
  assert.equal(await list(s, a), [{ depends_on_task_id: b, resolved: false }])
  assert.is(await openCount(s, a), 1)
})

test('a dependency on a task in a terminal stage is resolved', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  const done = await doneTask(s)
  expectStatus(await add(s, a, done), 201)
  assert.equal(await list(s, a), [{ depends_on_task_id: done, resolved: true }])
  assert.is(await openCount(s, a), 0)
  const created = await createTask(s, pipelineId, { dependencies: [done] })
  assert.is(await openCount(s, created), 0)
})

test('dependencies are listed in the order they were added', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  const ups = [await createTask(s, pipelineId), await doneTask(s), await createTask(s, pipelineId)]
  for (const up of ups) expectStatus(await add(s, a, up), 201)
  assert.equal((await list(s, a)).map((d: { depends_on_task_id: string }) => d.depends_on_task_id), ups)
  assert.is(await openCount(s, a), 2)
})

test('a task depending on itself is 400 invalid_dependency, even when unknown', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  expectError(await add(s, a, a), 400, 'invalid_dependency')
  expectError(await add(s, 'ghost', 'ghost'), 400, 'invalid_dependency')
  assert.equal(await list(s, a), [])
})

test('a direct cycle is 400 dependency_cycle and adds nothing', async ({ s, pipelineId }) => {
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  expectStatus(await add(s, a, b), 201)
  expectError(await add(s, b, a), 400, 'dependency_cycle')
  assert.equal(await list(s, b), [])
  assert.is(await openCount(s, b), 0)
})

test('a transitive cycle is 400 dependency_cycle', async ({ s, pipelineId }) => {
  const [a, b, c, d] = [await createTask(s, pipelineId), await createTask(s, pipelineId), await createTask(s, pipelineId), await createTask(s, pipelineId)]
  expectStatus(await add(s, a, b), 201)
  expectStatus(await add(s, b, c), 201)
  expectStatus(await add(s, c, d), 201)
  expectError(await add(s, d, a), 400, 'dependency_cycle')
  expectError(await add(s, c, a), 400, 'dependency_cycle')
  expectError(await add(s, d, b), 400, 'dependency_cycle')
})

test('a cycle through dependencies given at create time is found', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  const b = await createTask(s, pipelineId, { dependencies: [a] })
  const c = await createTask(s, pipelineId, { dependencies: [b] })
  expectError(await add(s, a, c), 400, 'dependency_cycle')
})

test('a diamond is not a cycle', async ({ s, pipelineId }) => {
  const [a, b, c, d] = [await createTask(s, pipelineId), await createTask(s, pipelineId), await createTask(s, pipelineId), await createTask(s, pipelineId)]
  for (const [from, to] of [[a, b], [a, c], [b, d], [c, d], [a, d]]) expectStatus(await add(s, from, to), 201)
  assert.is(await openCount(s, a), 3)
})

test('a duplicate edge is 409 duplicate_dependency', async ({ s, pipelineId }) => {
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  expectStatus(await add(s, a, b), 201)
  expectError(await add(s, a, b), 409, 'duplicate_dependency')
  assert.is(await openCount(s, a), 1)
})

test('an unknown task is 404 task_not_found; an unknown upstream 404 dependency_task_not_found', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  expectError(await add(s, 'ghost', a), 404, 'task_not_found')
  expectError(await add(s, a, 'ghost'), 404, 'dependency_task_not_found')
  assert.equal(await list(s, a), [])
})

test('listing the dependencies of an unknown task is 404 not_found', async ({ s }) => {
  expectError(await s.request('GET', '/tasks/ghost/dependencies'), 404, 'not_found')
})

test('deleting a dependency answers 204 with no body and unblocks the task', async ({ s, pipelineId }) => {
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  expectStatus(await add(s, a, b), 201)
  const res = expectStatus(await s.request('DELETE', `/tasks/${a}/dependencies/${b}`), 204)
  assert.is(res.text, '')
  assert.is(res.headers.get('content-type'), null)
  assert.equal(await list(s, a), [])
  assert.is(await openCount(s, a), 0)
  expectStatus(await add(s, a, b), 201)
  assert.is(await openCount(s, a), 1)
})

test('deleting a resolved dependency leaves the open count alone', async ({ s, pipelineId }) => {
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  const done = await doneTask(s)
  expectStatus(await add(s, a, b), 201)
  expectStatus(await add(s, a, done), 201)
  expectStatus(await s.request('DELETE', `/tasks/${a}/dependencies/${done}`), 204)
  assert.is(await openCount(s, a), 1)
})

test('deleting an absent dependency is 404 not_found', async ({ s, pipelineId }) => {
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  expectError(await s.request('DELETE', `/tasks/${a}/dependencies/${b}`), 404, 'not_found')
  expectError(await s.request('DELETE', `/tasks/ghost/dependencies/${b}`), 404, 'not_found')
  expectError(await s.request('DELETE', `/tasks/${a}/dependencies/ghost`), 404, 'not_found')
  expectStatus(await add(s, a, b), 201)
  expectStatus(await s.request('DELETE', `/tasks/${a}/dependencies/${b}`), 204)
  expectError(await s.request('DELETE', `/tasks/${a}/dependencies/${b}`), 404, 'not_found')
})

test('bad bodies are 400 invalid_json or validation_failed naming the field', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  for (const body of ['{', '[]', '', '"x"']) {
    expectError(await s.request('POST', `/tasks/${a}/dependencies`, body), 400, 'invalid_json')
  }
  for (const body of [{}, { depends_on_task_id: 5 }, { depends_on_task_id: null }, { depends_on_task_id: [a] }]) {
    const res = expectError(await s.request('POST', `/tasks/${a}/dependencies`, body), 400, 'validation_failed')
    assert.is(res.body.error.details[0].path, 'depends_on_task_id')
  }
})

test.run()
