import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { taskBody, taskIdsOf } from '../helpers/tasks.ts'

const test = suite<{ s: TestServer }>('tasks', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

/** Runs are written by claims (not part of this suite); a row put in directly stands for one. */
async function insertRun(s: TestServer, taskId: string, attempt: number, leaseExpiresAtMs: number | null): Promise<string> {
  const id = `run-${unique('r')}`
  const insert = (hash: string) => `INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash, lease_ttl_ms, lease_expires_at_ms)
    VALUES (?, ?, ?, 'running', 'agent-1', 'worker', ?, ${hash}, 1000, ?)`
  await s.sql({ sqlite: insert("x'00'"), postgres: insert("decode('00', 'hex')") }, id, taskId, attempt, s.clock.now(), leaseExpiresAtMs)
  return id
}

test('a new task starts in the initial stage with the documented defaults', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const id = await createTask(s, pipelineId)
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  const now = s.clock.now()
  assert.equal(task, {
    id, pipeline_id: pipelineId, stage: 'work', title: 't', description: 'd', priority: 0, metadata: {},
    task_version: 1, next_eligible_at_ms: 0, retry_delay_ms: 0, max_attempts: null, dead_letter_stage: null,
    dead_letter_reason: null, created_at_ms: now, updated_at_ms: now,
    dependencies: [], assignments: [],
    available_transitions: [{ trigger: 'complete', to: 'review', required_gates: [] }],
  })
})

test('the Task fields come first and in nullTickets order', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s))
  const res = expectStatus(await s.request('GET', `/tasks/${id}`), 200)
  assert.equal(Object.keys(res.body), ['id', 'pipeline_id', 'stage', 'title', 'description', 'priority', 'metadata',
    'task_version', 'next_eligible_at_ms', 'retry_delay_ms', 'max_attempts', 'dead_letter_stage', 'dead_letter_reason',
    'created_at_ms', 'updated_at_ms', 'dependencies', 'assignments', 'available_transitions'])
  assert.ok(!res.text.includes(' '), 'compact JSON')
  assert.is(res.headers.get('content-type'), 'application/json; charset=utf-8')
})

test('every optional field is stored and echoed', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const id = await createTask(s, pipelineId, {
    priority: -7,
    metadata: { a: [1, { b: null }], c: 'x' },
    retry_policy: { max_attempts: 3, retry_delay_ms: 250, dead_letter_stage: 'done' },
    not_before_ms: 1_800_000_000_000,
  })
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.is(task.priority, -7)
  assert.equal(task.metadata, { a: [1, { b: null }], c: 'x' })
  assert.is(task.max_attempts, 3)
  assert.is(task.retry_delay_ms, 250)
  assert.is(task.dead_letter_stage, 'done')
  assert.is(task.next_eligible_at_ms, 1_800_000_000_000)
})

test('null optional fields mean the defaults', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s), {
    priority: null, metadata: null, retry_policy: null, dependencies: null, assigned_agent_id: null, not_before_ms: null,
  })
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.is(task.priority, 0)
  assert.equal(task.metadata, {})
  assert.is(task.max_attempts, null)
  assert.equal(task.assignments, [])
})

test('metadata of any JSON type is echoed as given', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  for (const metadata of ['text', [1, 'two', false], 42, true, { deep: { er: [[]] } }]) {
    const id = await createTask(s, pipelineId, { metadata })
    assert.equal(expectStatus(await s.request('GET', `/tasks/${id}`), 200).body.metadata, metadata)
  }
})

test('strings with NUL, emoji and escapes round-trip exactly', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const title = 'a\u0000b \u{1F600} "q" \\ \n\t é'
  const id = await createTask(s, pipelineId, { title, description: '\u0000', metadata: { k: title } })
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.is(task.title, title)
  assert.is(task.description, '\u0000')
  assert.is(task.metadata.k, title)
})

test('metadata nested deeper than 64 levels is 400 validation_failed', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  let deep: unknown = 1
  for (let i = 0; i < 70; i++) deep = [deep]
  const before = await taskIdsOf(s, pipelineId)
  expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { metadata: deep })), 400, 'validation_failed')
  assert.equal(await taskIdsOf(s, pipelineId), before)
})

test('an unknown pipeline_id is 404 pipeline_not_found naming the field', async ({ s }) => {
  const res = expectError(await s.request('POST', '/tasks', taskBody('no-such-pipeline')), 404, 'pipeline_not_found')
  assert.is(res.body.error.details[0].path, 'pipeline_id')
})

test('an unknown dependency is 404 task_not_found and creates nothing', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const known = await createTask(s, pipelineId)
  const res = expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { dependencies: [known, 'nope'], assigned_agent_id: 'a' })), 404, 'task_not_found')
  assert.is(res.body.error.details[0].path, 'dependencies[1]')
  assert.equal(await taskIdsOf(s, pipelineId), [known])
})

test('a dependency listed twice is 409 duplicate_dependency', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const known = await createTask(s, pipelineId)
  expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { dependencies: [known, known] })), 409, 'duplicate_dependency')
  assert.equal(await taskIdsOf(s, pipelineId), [known])
})

test('a dead_letter_stage naming no stage is 400 validation_failed', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const res = expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { retry_policy: { dead_letter_stage: 'nowhere' } })), 400, 'validation_failed')
  assert.is(res.body.error.details[0].path, 'retry_policy.dead_letter_stage')
  assert.equal(await taskIdsOf(s, pipelineId), [])
})

test('integers must be JSON integers in range', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ priority: '5' }, 'priority'],
    [{ priority: 5.5 }, 'priority'],
    [{ priority: true }, 'priority'],
    [{ priority: 2 ** 53 }, 'priority'],
    [{ retry_policy: { max_attempts: 0 } }, 'retry_policy.max_attempts'],
    [{ retry_policy: { max_attempts: '3' } }, 'retry_policy.max_attempts'],
    [{ retry_policy: { retry_delay_ms: -1 } }, 'retry_policy.retry_delay_ms'],
    [{ not_before_ms: -1 }, 'not_before_ms'],
    [{ not_before_ms: 1.5 }, 'not_before_ms'],
  ]
  for (const [fields, path] of cases) {
    const res = expectError(await s.request('POST', '/tasks', taskBody(pipelineId, fields)), 400, 'validation_failed')
    assert.ok(res.body.error.details.some((d: { path: string }) => d.path === path), `${path} not in ${res.text}`)
  }
  assert.equal(await taskIdsOf(s, pipelineId), [])
})

test('missing and wrongly typed fields are each named in details', async ({ s }) => {
  const res = expectError(await s.request('POST', '/tasks', { title: 5, dependencies: 'x', retry_policy: [] }), 400, 'validation_failed')
  const paths = res.body.error.details.map((d: { path: string }) => d.path)
  for (const path of ['pipeline_id', 'title', 'description', 'dependencies', 'retry_policy']) {
    assert.ok(paths.includes(path), `${path} not in ${res.text}`)
  }
  const typed = expectError(await s.request('POST', '/tasks', taskBody('p', { dependencies: ['a', 7], assigned_agent_id: 1 })), 400, 'validation_failed')
  const typedPaths = typed.body.error.details.map((d: { path: string }) => d.path)
  assert.ok(typedPaths.includes('dependencies[1]') && typedPaths.includes('assigned_agent_id'), typed.text)
})

test('malformed, non-object and empty bodies are 400 invalid_json', async ({ s }) => {
  for (const body of ['{', '[]', '[{}]', '"x"', '7', '', 'null', '{"a":1}x', '\xff']) {
    expectError(await s.request('POST', '/tasks', body), 400, 'invalid_json')
  }
})

test('an unknown task is 404 not_found on detail, run-state and runs', async ({ s }) => {
  expectError(await s.request('GET', '/tasks/nope'), 404, 'not_found')
  expectError(await s.request('GET', '/tasks/nope/run-state'), 404, 'not_found')
  expectError(await s.request('GET', '/tasks/nope/runs'), 404, 'not_found')
})

test('GET /tasks/bulk is the bulk route with a wrong method (405), not a task named bulk', async ({ s }) => {
  const res = expectError(await s.request('GET', '/tasks/bulk'), 405, 'method_not_allowed')
  assert.is(res.headers.get('allow'), 'POST')
})

test('a task without runs has no latest_run and no run-state', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s))
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.ok(!('latest_run' in task))
  expectError(await s.request('GET', `/tasks/${id}/run-state`), 404, 'not_found')
  assert.equal(expectStatus(await s.request('GET', `/tasks/${id}/runs`), 200).body, { items: [], next_cursor: null })
})

test('latest_run and run-state show the highest attempt', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s))
  await insertRun(s, id, 1, null)
  const expiresAt = s.clock.now() + 5000
  const run2 = await insertRun(s, id, 2, expiresAt)
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.equal(task.latest_run, {
    id: run2, task_id: id, attempt: 2, status: 'running', agent_id: 'agent-1', agent_role: 'worker',
    started_at_ms: s.clock.now(), ended_at_ms: null,
  })
  const state = expectStatus(await s.request('GET', `/tasks/${id}/run-state`), 200).body
  assert.equal(state, { task_id: id, run_id: run2, attempt: 2, status: 'running', lease_id: run2, lease_expires_at_ms: expiresAt })
})

test('run-state has null lease fields when the run holds no lease', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s))
  await insertRun(s, id, 1, null)
  const state = expectStatus(await s.request('GET', `/tasks/${id}/run-state`), 200).body
  assert.is(state.lease_id, null)
  assert.is(state.lease_expires_at_ms, null)
})

test('runs are listed in attempt order, page by page', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s))
  const runIds: string[] = []
  for (const n of [1, 2, 3, 4, 5]) runIds.push(await insertRun(s, id, n, null))
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ id: string }>; next_cursor: string | null } =
      expectStatus(await s.request('GET', `/tasks/${id}/runs?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`), 200).body
    seen.push(...page.items.map((r) => r.id))
    cursor = page.next_cursor
  } while (cursor !== null)
  assert.equal(seen, runIds)
})

test('bad limits and cursors on the runs list are 400', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s))
  for (const limit of ['0', '1001', '-1', 'x', '1.5', '']) {
    expectError(await s.request('GET', `/tasks/${id}/runs?limit=${limit}`), 400, 'invalid_limit')
  }
  for (const cursor of ['x', '-1', '1.5', '', '1:2']) {
    expectError(await s.request('GET', `/tasks/${id}/runs?cursor=${cursor}`), 400, 'invalid_cursor')
  }
})

test('available_transitions lists the current stage\'s transitions with their gates', async ({ s }) => {
  const pipelineId = await createPipeline(s, {
    initial: 'review',
    states: { review: { agent_role: unique('r') }, work: { agent_role: unique('w') }, done: { terminal: true } },
    transitions: [
      { from: 'review', to: 'done', trigger: 'approve' },
      { from: 'work', to: 'review', trigger: 'complete' },
      { from: 'review', to: 'work', trigger: 'reject', required_gates: ['tests', 'lint'], instructions: 'redo' },
    ],
  })
  const task = expectStatus(await s.request('GET', `/tasks/${await createTask(s, pipelineId)}`), 200).body
  assert.equal(task.available_transitions, [
    { trigger: 'approve', to: 'done', required_gates: [] },
    { trigger: 'reject', to: 'work', required_gates: ['tests', 'lint'] },
  ])
})

test('a task created with an assignee shows the assignment without task_id', async ({ s }) => {
  const id = await createTask(s, await createPipeline(s), { assigned_agent_id: 'agent-7', assigned_by: 'boss' })
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  const now = s.clock.now()
  assert.equal(task.assignments, [{ agent_id: 'agent-7', assigned_by: 'boss', active: true, created_at_ms: now, updated_at_ms: now }])
})

test('a task created with dependencies lists them in order with their resolution', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const a = await createTask(s, pipelineId)
  const b = await createTask(s, pipelineId)
  const id = await createTask(s, pipelineId, { dependencies: [b, a] })
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  assert.equal(task.dependencies, [{ depends_on_task_id: b, resolved: false }, { depends_on_task_id: a, resolved: false }])
})

test('names longer than 512 and titles longer than 4096 characters are 400 validation_failed', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  expectStatus(await s.request('POST', '/tasks', { pipeline_id: pipelineId, title: 't'.repeat(4096), description: '', assigned_agent_id: 'a'.repeat(512) }), 201)
  const long = expectError(await s.request('POST', '/tasks', { pipeline_id: pipelineId, title: 't'.repeat(4097), description: '', assigned_agent_id: 'a'.repeat(513) }), 400, 'validation_failed')
  assert.equal(long.body.error.details.map((d: { path: string }) => d.path).sort(), ['assigned_agent_id', 'title'])
  expectError(await s.request('POST', '/leases/claim', { agent_id: 'x'.repeat(513), agent_role: 'r' }), 400, 'validation_failed')
  expectError(await s.request('POST', '/pipelines', { name: 'n'.repeat(513), definition: {} }), 400, 'validation_failed')
})

test.run()
