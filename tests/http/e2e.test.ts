// The nullTickets end-to-end script (R§26), step by step, against Docket.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'

const test = suite<{ s: TestServer }>('nullTickets e2e flow', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('the whole R§26 flow passes', async ({ s }) => {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => s.request(method, path, body, headers)
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

  let r = await call('GET', '/health')
  assert.is(r.status, 200); assert.is(r.body.status, 'ok')
  r = await call('GET', '/openapi.json')
  assert.is(r.status, 200); assert.is(r.body.openapi, '3.1.0')
  assert.is((await call('GET', '/.well-known/openapi.json')).status, 200)
  assert.ok('/v1/traces' in r.body.paths)

  r = await call('POST', '/v1/traces', {
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'e2e' } }] },
      scopeSpans: [{
        scope: { name: 'e2e' },
        spans: [{
          traceId: '0123456789abcdef0123456789abcdef', spanId: '0123456789abcdef', name: 'step',
          startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000100000000',
          attributes: [
            { key: 'nulltickets.run_id', value: { stringValue: 'run-1' } },
            { key: 'nulltickets.task_id', value: { stringValue: 'task-1' } },
          ],
        }],
      }],
    }],
  }, { 'content-type': 'application/json' })
  assert.is(r.status, 200); assert.is(r.body.accepted_spans, 1); assert.is(r.body.stored, 'json')
  // R§26 steps 10-12 expect 200 {"accepted_spans":0,"stored":"blob"} here. Docket keeps the bytes as a blob
  // too, but answers as OTLP/HTTP requires for a body that does not decode: 400 with a protobuf google.rpc.Status.
  r = await call('POST', '/otlp/v1/traces', 'abc', { 'content-type': 'application/x-protobuf' })
  assert.is(r.status, 400); assert.is(r.headers.get('content-type'), 'application/x-protobuf')

  r = await call('POST', '/pipelines', {
    name: 'dev-pipeline',
    definition: {
      initial: 'research',
      states: {
        research: { agent_role: 'researcher' }, coding: { agent_role: 'coder' },
        review: { agent_role: 'reviewer' }, done: { terminal: true },
      },
      transitions: [
        { from: 'research', to: 'coding', trigger: 'complete' },
        { from: 'coding', to: 'review', trigger: 'complete', required_gates: ['tests_passed'] },
        { from: 'review', to: 'done', trigger: 'approve' },
        { from: 'review', to: 'coding', trigger: 'reject' },
      ],
    },
  })
  assert.is(r.status, 201)
  const pipelineId = r.body.id
  assert.is((await call('GET', '/pipelines')).status, 200)
  assert.is((await call('GET', `/pipelines/${pipelineId}`)).status, 200)

  const task = (title: string, priority: number, extra: object = {}) =>
    call('POST', '/tasks', { pipeline_id: pipelineId, title, description: `${title} description`, priority, ...extra })
  r = await task('Task 1', 3); assert.is(r.status, 201); const task1 = r.body.id
  r = await task('Task 2', 2); assert.is(r.status, 201)
  r = await task('Task 3', 1); assert.is(r.status, 201); const task3 = r.body.id
  r = await call('GET', '/tasks?stage=research')
  assert.is(r.status, 200); assert.is(r.body.items.length, 3)
  r = await call('GET', `/tasks/${task1}`)
  assert.is(r.status, 200); assert.is(r.body.stage, 'research')

  r = await task('Blocked Task', 100, { dependencies: [task3] }); assert.is(r.status, 201)
  r = await call('GET', `/tasks/${r.body.id}/dependencies`)
  assert.is(r.status, 200); assert.is(r.body.length, 1); assert.is(r.body[0].resolved, false)

  const idem = { 'idempotency-key': 'idem-task-1' }
  const idemBody = { pipeline_id: pipelineId, title: 'Idem', description: 'd' }
  r = await call('POST', '/tasks', idemBody, idem); assert.is(r.status, 201); const idemId = r.body.id
  r = await call('POST', '/tasks', idemBody, idem); assert.is(r.status, 201); assert.is(r.body.id, idemId)
  r = await call('POST', '/tasks', { ...idemBody, title: 'Other' }, idem); assert.is(r.status, 409)

  r = await call('POST', '/tasks/bulk', { tasks: [
    { pipeline_id: pipelineId, title: 'Bulk 1', description: 'd' },
    { pipeline_id: pipelineId, title: 'Bulk 2', description: 'd' },
  ] })
  assert.is(r.status, 201); assert.is(r.body.ids.length, 2)
  r = await call('GET', '/tasks?stage=research&limit=2')
  assert.is(r.status, 200); assert.is(r.body.items.length, 2)
  if (r.body.next_cursor) assert.is((await call('GET', `/tasks?stage=research&limit=2&cursor=${encodeURIComponent(r.body.next_cursor)}`)).status, 200)

  r = await call('POST', '/leases/claim', { agent_id: 'agent-1', agent_role: 'researcher', lease_ttl_ms: 60000 })
  assert.is(r.status, 200); assert.is(r.body.task.id, task1)
  let { run, lease_id, lease_token } = r.body
  r = await call("POST", `/leases/${lease_id}/heartbeat`, undefined, bearer(lease_token)); assert.is(r.status, 200, r.text)
  r = await call('POST', `/runs/${run.id}/events`, { kind: 'step', data: { progress: 50 } }, bearer(lease_token))
  assert.is(r.status, 201)
  r = await call('GET', `/runs/${run.id}/events`)
  assert.is(r.status, 200); assert.is(r.body.items.length, 1)
  r = await call('GET', `/runs/${run.id}/events?limit=1`)
  assert.is(r.status, 200); assert.is(r.body.items.length, 1)
  r = await call('POST', `/runs/${run.id}/transition`, { trigger: 'complete', instructions: 'Proceed to coding' }, bearer(lease_token))
  assert.is(r.status, 200); assert.is(r.body.new_stage, 'coding')

  r = await call('POST', '/leases/claim', { agent_id: 'agent-2', agent_role: 'coder' }); assert.is(r.status, 200)
  r = await call('POST', `/runs/${r.body.run.id}/transition`, { trigger: 'complete', expected_stage: 'coding', expected_task_version: 2 }, bearer(r.body.lease_token))
  assert.is(r.status, 200); assert.is(r.body.new_stage, 'review')
  r = await call('POST', '/leases/claim', { agent_id: 'agent-3', agent_role: 'reviewer' }); assert.is(r.status, 200)
  r = await call('POST', `/runs/${r.body.run.id}/transition`, { trigger: 'reject' }, bearer(r.body.lease_token))
  assert.is(r.status, 200); assert.is(r.body.new_stage, 'coding')
  r = await call('POST', '/leases/claim', { agent_id: 'coder-2', agent_role: 'coder' }); assert.is(r.status, 200)
  r = await call('POST', `/runs/${r.body.run.id}/fail`, { error: 'tests failed', usage: { tokens: 10 } }, bearer(r.body.lease_token))
  assert.is(r.status, 200)
  r = await call('POST', '/leases/claim', { agent_id: 'coder-3', agent_role: 'coder' }); assert.is(r.status, 200)
  ;({ run, lease_token } = r.body)
  assert.is((await call('POST', `/runs/${run.id}/transition`, { trigger: 'complete' }, bearer(lease_token))).status, 200)

  r = await call('POST', '/artifacts', { task_id: task1, kind: 'code', uri: 'file:///tmp/a.ts', size_bytes: 2048 })
  assert.is(r.status, 201)
  r = await call('GET', `/artifacts?task_id=${task1}`)
  assert.is(r.status, 200); assert.is(r.body.items.length, 1)
  assert.is((await call('POST', '/artifacts', { task_id: task1, kind: 'log', uri: 'file:///tmp/b.log' })).status, 201)
  r = await call('GET', `/artifacts?task_id=${task1}&limit=1`)
  assert.is(r.status, 200); assert.is(r.body.items.length, 1)

  const single = (role: string) => ({
    initial: 'todo',
    states: { todo: { agent_role: role }, done: { terminal: true } },
    transitions: [{ from: 'todo', to: 'done', trigger: 'complete' }],
  })
  r = await call('POST', '/pipelines', { name: 'deadletter-pipeline', definition: single('dl-coder') }); assert.is(r.status, 201)
  r = await call('POST', '/tasks', { pipeline_id: r.body.id, title: 'Dead', description: 'd', retry_policy: { max_attempts: 1, retry_delay_ms: 0, dead_letter_stage: 'done' } })
  assert.is(r.status, 201); const deadId = r.body.id
  r = await call('POST', '/leases/claim', { agent_id: 'dl-agent', agent_role: 'dl-coder' }); assert.is(r.status, 200)
  assert.is((await call('POST', `/runs/${r.body.run.id}/fail`, { error: 'boom' }, bearer(r.body.lease_token))).status, 200)
  r = await call('GET', `/tasks/${deadId}`)
  assert.is(r.status, 200); assert.is(r.body.stage, 'done'); assert.is(r.body.dead_letter_reason, 'max_attempts_exceeded')

  r = await call('POST', '/pipelines', { name: 'assign-pipeline', definition: single('assignee-role') }); assert.is(r.status, 201)
  r = await call('POST', '/tasks', { pipeline_id: r.body.id, title: 'Assigned', description: 'd', assigned_agent_id: 'worker-2' })
  assert.is(r.status, 201); const assignedId = r.body.id
  assert.is((await call('POST', '/leases/claim', { agent_id: 'worker-1', agent_role: 'assignee-role' })).status, 204)
  assert.is((await call('POST', `/tasks/${assignedId}/assignments`, { agent_id: 'worker-1', assigned_by: 'orchestrator' })).status, 201)
  r = await call('GET', `/tasks/${assignedId}/assignments`)
  assert.is(r.status, 200); assert.is(r.body.length, 2)
  assert.is((await call('POST', '/leases/claim', { agent_id: 'worker-1', agent_role: 'assignee-role' })).status, 200)

  r = await call('GET', '/ops/queue')
  assert.is(r.status, 200); assert.ok(r.body.roles.length > 0)

  const json = { 'content-type': 'application/json' }
  assert.is((await call('PUT', '/store/docs/readme', { value: { title: 'Getting Started', body: 'Install and run' } }, json)).status, 204)
  r = await call('GET', '/store/docs/readme')
  assert.is(r.status, 200); assert.is(r.body.value.title, 'Getting Started')
  assert.is((await call('PUT', '/store/docs/readme', { value: { title: 'Updated' } }, json)).status, 204)
  assert.is((await call('GET', '/store/docs/readme')).body.value.title, 'Updated')
  assert.is((await call('PUT', '/store/docs/api', { value: { title: 'API', body: 'endpoints and methods' } }, json)).status, 204)
  r = await call('GET', '/store/docs')
  assert.is(r.status, 200); assert.is(r.body.length, 2)
  r = await call('GET', '/store/search?q=endpoints+methods')
  assert.is(r.status, 200); assert.is(r.body.length, 1); assert.is(r.body[0].key, 'api')
  assert.is((await call('DELETE', '/store/docs/readme')).status, 204)
  assert.is((await call('GET', '/store/docs/readme')).status, 404)
  assert.is((await call('DELETE', '/store/docs')).status, 204)
  r = await call('GET', '/store/docs')
  assert.is(r.status, 200); assert.is(r.body.length, 0)

  assert.is((await call('POST', '/leases/claim', { agent_id: 'x', agent_role: 'nonexistent-role' })).status, 204)
  assert.is((await call('GET', '/nonexistent')).status, 404)
  assert.is((await call('GET', '/health')).status, 200)
})

test.run()
