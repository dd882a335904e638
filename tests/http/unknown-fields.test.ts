// A field a route does not know is a 400 naming it, never dropped in silence; free-form JSON stays free-form.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createPipeline, createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { taskBody } from '../helpers/tasks.ts'
import { ROUTES } from '../../src/app.ts'

const test = suite<{ s: TestServer }>('unknown fields', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const detailsOf = (res: { body: any }) => res.body.error.details as Array<{ path: string; message: string }>

test('max_attempts at the top of a task create is 400, with a hint to retry_policy.max_attempts', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const res = expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { max_attempts: 1 })), 400, 'validation_failed')
  assert.equal(detailsOf(res), [{ path: 'max_attempts', message: 'unknown field; did you mean retry_policy.max_attempts?' }])
})

test('unknown fields are named by their path, in nested objects and bulk items too', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const good = taskBody(pipelineId)
  let res = expectError(await s.request('POST', '/tasks/bulk', { tasks: [good, good, { ...good, foo: 1 }] }), 400, 'validation_failed')
  assert.equal(detailsOf(res), [{ path: 'tasks[2].foo', message: 'unknown field' }])
  res = expectError(await s.request('POST', '/tasks/bulk', { tasks: [good, { ...good, dead_letter_stage: 'done' }] }), 400, 'validation_failed')
  assert.equal(detailsOf(res), [{ path: 'tasks[1].dead_letter_stage', message: 'unknown field; did you mean tasks[1].retry_policy.dead_letter_stage?' }])
  res = expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { retry_policy: { max_attempts: 2, priority: 3 } })), 400, 'validation_failed')
  assert.equal(detailsOf(res), [{ path: 'retry_policy.priority', message: 'unknown field; did you mean priority?' }])
  res = expectError(await s.request('POST', '/leases/claim', { agent_id: 'a', agent_role: 'r', per_state: { x: 1 }, concurrency: { limit: 1 } }), 400, 'validation_failed')
  assert.equal(detailsOf(res), [
    { path: 'per_state', message: 'unknown field; did you mean concurrency.per_state?' },
    { path: 'concurrency.limit', message: 'unknown field' },
  ])
  // Wrong types and unknown fields are reported together, and nothing is created.
  res = expectError(await s.request('POST', '/tasks', taskBody(pipelineId, { priority: 'high', extra: null })), 400, 'validation_failed')
  assert.equal(detailsOf(res).map((d) => d.path), ['priority', 'extra'])
  assert.is(expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}`), 200).body.items.length, 0)
})

test('free-form fields keep any content: metadata, data, usage, meta, value, definition, per_state', async ({ s }) => {
  const anything = { max_attempts: 1, nested: { foo: [1, { bar: null }] } }
  const role = unique('role')
  const pipelineId = await createPipeline(s, {
    initial: 'work',
    x_editor: { layout: 'lr' },
    states: { work: { agent_role: role, description: 'd', workflow_id: 'w', color: 'red' }, done: { terminal: true } },
    transitions: [{ from: 'work', to: 'done', trigger: 'complete', required_gates: [], x_note: 'n' }],
  })
  expectStatus(await s.request('GET', `/pipelines/${pipelineId}`), 200)
  const taskId = await createTask(s, pipelineId, { metadata: anything })
  const lease = (await claim(s, role, { concurrency: { per_state: { work: 5, 'any stage': 'x' } } }))!
  const auth = bearer(lease.lease_token)
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/events`, { kind: 'k', data: anything }, auth), 201)
  expectStatus(await s.request('POST', '/artifacts', { task_id: taskId, kind: 'k', uri: 'u', meta: anything }), 201)
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete', usage: anything }, auth), 200)
  expectStatus(await s.request('PUT', `/store/${unique('ns')}/k`, { value: anything }), 204)
  assert.equal(expectStatus(await s.request('GET', `/tasks/${taskId}`), 200).body.metadata, anything)
})

type Call = { method: string; path: string; body: Record<string, unknown>; headers?: Record<string, string> }

test('every route that takes a JSON body rejects a stray field, naming only it', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const other = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  const auth = bearer(lease.lease_token)
  const calls: Call[] = [
    { method: 'POST', path: '/pipelines', body: { name: unique('p'), definition: { initial: 'a', states: { a: { agent_role: 'x' }, b: { terminal: true } }, transitions: [{ from: 'a', to: 'b', trigger: 't' }] } } },
    { method: 'POST', path: '/tasks', body: taskBody(pipelineId) },
    { method: 'POST', path: '/tasks/bulk', body: { tasks: [taskBody(pipelineId)] } },
    { method: 'POST', path: `/tasks/${taskId}/dependencies`, body: { depends_on_task_id: other } },
    { method: 'POST', path: `/tasks/${taskId}/assignments`, body: { agent_id: 'a', assigned_by: 'b' } },
    { method: 'POST', path: `/tasks/${taskId}/cancel`, body: { reason: 'r' } },
    { method: 'POST', path: `/tasks/${taskId}/requeue`, body: { stage: 'work' } },
    { method: 'POST', path: `/pipelines/${pipelineId}/pause`, body: {} },
    { method: 'POST', path: `/pipelines/${pipelineId}/resume`, body: {} },
    { method: 'POST', path: '/leases/claim', body: { agent_id: 'a', agent_role: role, lease_ttl_ms: 1000, wait_ms: 0, concurrency: { per_state: {} }, pipeline_id: pipelineId } },
    { method: 'POST', path: `/leases/${lease.lease_id}/heartbeat`, body: { lease_ttl_ms: 1000 }, headers: auth },
    { method: 'POST', path: `/runs/${lease.run.id}/events`, body: { kind: 'k', data: 1 }, headers: auth },
    { method: 'POST', path: `/runs/${lease.run.id}/transition`, body: { trigger: 'complete', instructions: 'i', usage: {}, expected_stage: 'work', expected_task_version: 1 }, headers: auth },
    { method: 'POST', path: `/runs/${lease.run.id}/fail`, body: { error: 'e', usage: {}, retry_delay_ms: 0 }, headers: auth },
    { method: 'POST', path: `/leases/${lease.lease_id}/release`, body: { reason: 'r', delay_ms: 0 }, headers: auth },
    { method: 'POST', path: '/artifacts', body: { task_id: taskId, run_id: lease.run.id, kind: 'k', uri: 'u', sha256: 'x', size_bytes: 1, meta: {} } },
    { method: 'PUT', path: '/store/ns/key', body: { value: 1 } },
    { method: 'PATCH', path: `/tasks/${taskId}`, body: { title: 't', description: 'd', priority: 1, metadata: {}, retry_policy: { max_attempts: 2, retry_delay_ms: 0, dead_letter_stage: 'done' }, not_before_ms: 0, assigned_agent_id: 'a', expected_task_version: 1 } },
    { method: 'POST', path: `/tasks/${taskId}/signal`, body: { trigger: 't', data: 1, expected_stage: 'work' } },
    { method: 'POST', path: '/tasks/requeue', body: { ids: [taskId], stage: 'work' } },
    { method: 'POST', path: '/tasks/cancel', body: { filter: { pipeline_id: pipelineId, stage: 'work', status: 'canceled', dead_letter_reason: 'canceled', created_before_ms: 1 }, reason: 'r' } },
    {
      method: 'PUT', path: `/schedules/${unique('s')}`,
      body: {
        every_ms: 1000, timezone: 'UTC', misfire: 'all', catchup_ms: 0, max_catchup: 1, overlap: 'allow', paused: false,
        task: { ...taskBody(pipelineId), priority: 1, metadata: {}, retry_policy: { max_attempts: 1 }, dependencies: [], assigned_agent_id: 'a', assigned_by: 'b' },
      },
    },
    { method: 'POST', path: '/schedules/pause', body: {} },
    { method: 'POST', path: '/schedules/resume', body: {} },
    { method: 'POST', path: '/schedules/s/trigger', body: {} },
    { method: 'POST', path: '/schedules/s/pause', body: {} },
    { method: 'POST', path: '/schedules/s/resume', body: {} },
  ]
  // OTLP/JSON bodies are not in the list: OTLP receivers ignore unknown fields (the OTLP specification says so).
  // Nor is /mcp: it takes JSON-RPC messages; the MCP tools' own arguments are strict (tests/mcp).
  const withBody = ROUTES.filter((r) => (r.method === 'POST' || r.method === 'PUT' || r.method === 'PATCH') && !r.path.endsWith('/v1/traces') && r.path !== '/mcp')
  const pattern = (path: string) => new RegExp(`^${path.replace(/:\w+/g, '[^/]+')}$`)
  for (const r of withBody) assert.ok(calls.some((c) => c.method === r.method && pattern(r.path).test(c.path)), `${r.method} ${r.path} is not tested`)
  for (const c of calls) {
    const res = expectError(await s.request(c.method, c.path, { ...c.body, zz_stray: true }, c.headers), 400, 'validation_failed')
    assert.equal(detailsOf(res), [{ path: 'zz_stray', message: 'unknown field' }], `${c.method} ${c.path}`)
  }
})

test.run()
