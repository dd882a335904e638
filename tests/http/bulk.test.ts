import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus } from '../helpers/fixtures.ts'
import { taskBody, taskIdsOf } from '../helpers/tasks.ts'

const test = suite<{ s: TestServer }>('bulk', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const assignmentCount = async (s: TestServer) => (await s.sql('SELECT count(*) AS n FROM task_assignments'))[0].n as number

test('bulk create answers the ids in request order', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const titles = ['a', 'b', 'c', 'd']
  const res = expectStatus(await s.request('POST', '/tasks/bulk', { tasks: titles.map((title) => taskBody(pipelineId, { title })) }), 201)
  assert.equal(Object.keys(res.body), ['ids'])
  assert.is(res.body.ids.length, 4)
  for (const [i, id] of (res.body.ids as string[]).entries()) {
    assert.is(expectStatus(await s.request('GET', `/tasks/${id}`), 200).body.title, titles[i])
  }
  assert.equal(await taskIdsOf(s, pipelineId), res.body.ids)
})

test('bulk items accept every field of a single create', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const upstream = await createTask(s, pipelineId)
  const res = expectStatus(await s.request('POST', '/tasks/bulk', {
    tasks: [taskBody(pipelineId, { priority: 5, metadata: [1], dependencies: [upstream], assigned_agent_id: 'x', assigned_by: 'y', retry_policy: { max_attempts: 2 }, not_before_ms: 9 })],
  }), 201)
  const task = expectStatus(await s.request('GET', `/tasks/${res.body.ids[0]}`), 200).body
  assert.is(task.priority, 5)
  assert.equal(task.metadata, [1])
  assert.equal(task.dependencies, [{ depends_on_task_id: upstream, resolved: false }])
  assert.is(task.assignments[0].agent_id, 'x')
  assert.is(task.max_attempts, 2)
  assert.is(task.next_eligible_at_ms, 9)
})

test('a failing third item leaves no task and no assignment, and is named', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const before = await assignmentCount(s)
  const good = taskBody(pipelineId, { assigned_agent_id: 'agent' })
  const cases: Array<[Record<string, unknown>, number, string, string]> = [
    [taskBody('no-such-pipeline'), 404, 'pipeline_not_found', 'tasks[2].pipeline_id'],
    [taskBody(pipelineId, { dependencies: ['nope'] }), 404, 'task_not_found', 'tasks[2].dependencies[0]'],
    [taskBody(pipelineId, { retry_policy: { dead_letter_stage: 'nowhere' } }), 400, 'validation_failed', 'tasks[2].retry_policy.dead_letter_stage'],
    [{ pipeline_id: pipelineId, description: 'd' }, 400, 'validation_failed', 'tasks[2].title'],
    [taskBody(pipelineId, { priority: 1.5 }), 400, 'validation_failed', 'tasks[2].priority'],
  ]
  for (const [third, status, code, path] of cases) {
    const res = expectError(await s.request('POST', '/tasks/bulk', { tasks: [good, good, third, good] }), status, code)
    assert.is(res.body.error.details[0].path, path, res.text)
    assert.equal(await taskIdsOf(s, pipelineId), [], `half-written after ${code}`)
  }
  assert.is(await assignmentCount(s), before)
})

test('a duplicate dependency in one item is 409 and names the item', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const upstream = await createTask(s, pipelineId)
  const res = expectError(await s.request('POST', '/tasks/bulk', {
    tasks: [taskBody(pipelineId), taskBody(pipelineId, { dependencies: [upstream, upstream] })],
  }), 409, 'duplicate_dependency')
  assert.ok(res.body.error.message.includes('tasks[1]'), res.text)
  assert.equal(await taskIdsOf(s, pipelineId), [upstream])
})

test('an empty list is 400 invalid_request', async ({ s }) => {
  expectError(await s.request('POST', '/tasks/bulk', { tasks: [] }), 400, 'invalid_request')
})

test('a missing or non-array tasks field is 400 validation_failed', async ({ s }) => {
  for (const body of [{}, { tasks: {} }, { tasks: 'x' }, { tasks: null }, { tasks: [7] }]) {
    const res = expectError(await s.request('POST', '/tasks/bulk', body), 400, 'validation_failed')
    assert.ok(res.body.error.details[0].path.startsWith('tasks'), res.text)
  }
})

test('malformed and non-object bodies are 400 invalid_json', async ({ s }) => {
  for (const body of ['{', '[]', '[{"pipeline_id":"x"}]', '', '"tasks"']) {
    expectError(await s.request('POST', '/tasks/bulk', body), 400, 'invalid_json')
  }
})

test('500 tasks in one request are created together', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const res = expectStatus(await s.request('POST', '/tasks/bulk', { tasks: Array.from({ length: 500 }, (_, i) => taskBody(pipelineId, { title: `t${i}` })) }), 201)
  assert.is(new Set(res.body.ids).size, 500)
  assert.equal(await taskIdsOf(s, pipelineId), res.body.ids)
})

test('a bulk body over the limit is 413 and creates nothing', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const huge = { tasks: Array.from({ length: 3 }, () => taskBody(pipelineId, { description: 'x'.repeat(400_000) })) }
  expectError(await s.request('POST', '/tasks/bulk', huge), 413, 'payload_too_large')
  assert.equal(await taskIdsOf(s, pipelineId), [])
})

test.run()
