// The MCP server at POST /mcp, driven by the SDK's own client over Streamable HTTP on a real socket.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { rawRequest } from '../helpers/raw.ts'
import { httpClient, keptLog, leakedTokens, text, type McpClient } from '../helpers/mcp.ts'

type Ctx = { s: TestServer; log: ReturnType<typeof keptLog> }
const test = suite<Ctx>('mcp over http', {} as Ctx)
test.before(async (ctx) => {
  ctx.log = keptLog()
  ctx.s = await startServer({}, { log: ctx.log })
})
test.after(async (ctx) => ctx.s.close())

const AGENT_TOOLS = ['add_artifact', 'append_event', 'claim_task', 'complete_task', 'create_task', 'fail_task', 'get_task', 'heartbeat',
  'list_tasks', 'my_leases', 'release_task', 'store_get', 'store_put', 'store_search', 'wait_for_task']

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }

async function withClient<T>(s: TestServer, headers: Record<string, string>, f: (c: McpClient) => Promise<T>): Promise<T> {
  const c = await httpClient(s, headers)
  try {
    return await f(c)
  } finally {
    await c.close()
  }
}

test('the agent tools are listed with their input schemas', async ({ s }) => {
  await withClient(s, {}, async (c) => {
    const { tools } = await c.client.listTools()
    assert.equal(tools.map((t) => t.name).sort(), AGENT_TOOLS)
    const claim = tools.find((t) => t.name === 'claim_task')!
    assert.equal(claim.inputSchema.properties!.wait_s, { type: 'integer', minimum: 0, maximum: 25, description: 'Seconds to wait for a task when none is waiting (default 0).' })
    assert.is(claim.inputSchema.additionalProperties, false)
    assert.equal(tools.find((t) => t.name === 'complete_task')!.inputSchema.required, ['task_id', 'trigger'])
    for (const t of tools) assert.ok((t.description ?? '').length > 40, `${t.name} has a description written for a model`)
  })
})

test('a full loop: claim → event → artifact → complete, with the lease token in no answer, resource, prompt or log line', async ({ s, log }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId, { title: 'Write the guide' })
  const agent = unique('agent')
  await withClient(s, { 'x-docket-agent': agent }, async (c) => {
    const claimed = await c.tool('claim_task', { role })
    assert.not.ok(claimed.isError, text(claimed))
    assert.is(claimed.structuredContent.task.id, taskId)
    assert.equal(claimed.structuredContent.available_transitions.map((t: any) => t.trigger).sort(), ['again', 'complete'])
    assert.match(text(claimed), /Claimed task/)
    const event = await c.tool('append_event', { task_id: taskId, kind: 'step', data: { n: 1 } })
    assert.type(event.structuredContent.event_id, 'number')
    const artifact = await c.tool('add_artifact', { task_id: taskId, kind: 'report', text: 'All done.', metadata: { pages: 1 } })
    assert.not.ok(artifact.isError, text(artifact))
    assert.is((await c.tool('heartbeat', { task_id: taskId, progress: 'halfway' })).isError, undefined)
    assert.equal((await c.tool('my_leases')).structuredContent.leases.map((l: any) => l.task_id), [taskId])
    const detail = await c.tool('get_task', { task_id: taskId })
    assert.is(detail.structuredContent.held_by_you, true)
    assert.equal(detail.structuredContent.recent_events.map((e: any) => e.kind), ['step', 'progress'])
    const resource = await c.client.readResource({ uri: `docket://tasks/${taskId}` })
    c.transcript.push(JSON.stringify(resource))
    assert.is(JSON.parse((resource.contents[0] as { text: string }).text).task.id, taskId)
    const prompt = await c.client.getPrompt({ name: 'work_loop', arguments: { role } })
    c.transcript.push(JSON.stringify(prompt))
    assert.match(JSON.stringify(prompt), /claim_task/)
    const done = await c.tool('complete_task', { task_id: taskId, trigger: 'complete', usage: { tokens: 5 }, output: 'see the report' })
    assert.equal(done.structuredContent, { task_id: taskId, previous_stage: 'work', new_stage: 'done', trigger: 'complete' })
    // The lease ended with the task: a second complete has nothing to act on.
    assert.is((await c.tool('complete_task', { task_id: taskId, trigger: 'complete' })).structuredContent.error.code, 'lease_lost')
    assert.equal((await c.tool('my_leases')).structuredContent.leases, [])

    const runs = expectStatus(await s.request('GET', `/tasks/${taskId}/runs`), 200).body.items
    assert.equal(runs.map((r: any) => [r.status, r.agent_id]), [['completed', agent]])
    const artifacts = expectStatus(await s.request('GET', `/artifacts?task_id=${taskId}`), 200).body.items
    assert.equal([artifacts[0].kind, artifacts[0].uri, artifacts[0].run_id], ['report', 'data:text/plain;charset=utf-8,All%20done.', runs[0].id])
    assert.equal(await leakedTokens(s, [...c.transcript, log.text()]), [])
    // The grep finds a token where there is one.
    const { pipelineId: p2, role: r2 } = await singleStage(s)
    await createTask(s, p2)
    const token = expectStatus(await s.request('POST', '/leases/claim', { agent_id: 'x', agent_role: r2 }), 200).body.lease_token
    assert.equal(await leakedTokens(s, [`…${token}…`]), [token])
  })
})

test('two clients claiming at once never get the same task', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  for (let i = 0; i < 8; i++) await createTask(s, pipelineId)
  const [a, b] = await Promise.all([httpClient(s, { 'x-docket-agent': unique('a') }), httpClient(s, { 'x-docket-agent': unique('b') })])
  try {
    const claims = await Promise.all([a, b, a, b, a, b, a, b, a, b].map((c) => c.tool('claim_task', { role })))
    const ids = claims.map((r) => r.structuredContent.task?.id).filter((id) => id !== undefined)
    assert.is(ids.length, 8)
    assert.is(new Set(ids).size, 8)
    assert.is(claims.filter((r) => r.structuredContent.task === null).length, 2)
  } finally {
    await Promise.all([a.close(), b.close()])
  }
})

test('bad arguments are a validation error and change nothing', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  await withClient(s, { 'x-docket-agent': unique('agent') }, async (c) => {
    for (const args of [{ role, wait_s: 26 }, { role, wait_s: 'soon' }, { role, lease: 'x' }]) {
      const res = await c.tool('claim_task', args)
      assert.is(res.isError, true, JSON.stringify(args))
      assert.match(text(res), /validation/i)
    }
    assert.is((await c.tool('complete_task', { task_id: taskId })).isError, true)
    // Docket's own validation answers through the tool too, with its code and details.
    const bad = await c.tool('create_task', { pipeline_id: pipelineId, title: 't', dependencies: ['ghost'] })
    assert.is(bad.isError, true)
    assert.match(bad.structuredContent.error.code, /not_found|invalid_dependency|validation_failed/)
  })
  expectError(await s.request('GET', `/tasks/${taskId}/run-state`), 404, 'not_found')
  assert.is(expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}`), 200).body.items.length, 1)
})

test('an expired lease is a clear tool error; release_task hands a task back uncounted', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const first = await createTask(s, pipelineId, { retry_policy: { max_attempts: 1 } })
  await withClient(s, { 'x-docket-agent': unique('agent') }, async (c) => {
    assert.is((await c.tool('claim_task', { role, lease_ttl_s: 10 })).structuredContent.task.id, first)
    s.clock.advance(10_000)
    const late = await c.tool('heartbeat', { task_id: first })
    assert.is(late.isError, true)
    assert.is(late.structuredContent.error.code, 'lease_expired')
    assert.match(late.structuredContent.error.next_step, /claim_task/)
    assert.is((await c.tool('append_event', { task_id: first, kind: 'x' })).structuredContent.error.code, 'lease_lost')

    const second = await createTask(s, pipelineId)
    assert.is((await c.tool('claim_task', { role })).structuredContent.task.id, second)
    const released = await c.tool('release_task', { task_id: second, reason: 'not mine' })
    assert.is(released.structuredContent.status, 'released')
    const again = await c.tool('claim_task', { role })
    assert.is(again.structuredContent.task.id, second)
    assert.is(again.structuredContent.attempt, 2)
  })
})

test('an agent acts only on its own leases; claim_task wants an agent id when none is configured', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  await withClient(s, { 'x-docket-agent': unique('owner') }, async (owner) => {
    assert.is((await owner.tool('claim_task', { role })).structuredContent.task.id, taskId)
    await withClient(s, { 'x-docket-agent': unique('other') }, async (other) => {
      assert.is((await other.tool('complete_task', { task_id: taskId, trigger: 'complete' })).structuredContent.error.code, 'lease_lost')
    })
    await withClient(s, {}, async (anonymous) => {
      assert.is((await anonymous.tool('claim_task', { role })).structuredContent.error.code, 'agent_required')
    })
    assert.not.ok((await owner.tool('fail_task', { task_id: taskId, error: 'boom', retry_delay_s: 0 })).isError)
  })
})

test('bound to loopback, /mcp refuses a Host or an Origin that is not a loopback name', async ({ s }) => {
  const { port } = new URL(s.url)
  const body = { chunks: [JSON.stringify(INIT)] }
  let res = await rawRequest(s.url, 'POST', '/mcp', { ...body, headers: { ...MCP_HEADERS, host: `evil.example:${port}` } })
  assert.is(res.status, 403)
  assert.is(res.body.error.code, 'forbidden_host')
  res = await rawRequest(s.url, 'POST', '/mcp', { ...body, headers: { ...MCP_HEADERS, origin: 'http://evil.example' } })
  assert.is(res.body.error.code, 'forbidden_origin')
  res = await rawRequest(s.url, 'POST', '/mcp', { ...body, headers: { ...MCP_HEADERS, host: `localhost:${port}`, origin: `http://localhost:${port}` } })
  assert.is(res.status, 200, res.text)
  expectError(await s.request('GET', '/mcp'), 405, 'method_not_allowed')
  expectError(await s.request('POST', '/mcp', '{', MCP_HEADERS), 400, 'invalid_json')
})

test('with an API token, /mcp without it is 401; with it the tools work', async () => {
  const s = await startServer({ token: 'mcp-secret' })
  try {
    expectError(await s.request('POST', '/mcp', INIT, MCP_HEADERS), 401, 'unauthorized')
    expectError(await s.request('POST', '/mcp', INIT, { ...MCP_HEADERS, authorization: 'Bearer wrong' }), 401, 'unauthorized')
    const { pipelineId, role } = await singleStage({ ...s, request: (m, p, b, h) => s.request(m, p, b, { ...h, authorization: 'Bearer mcp-secret' }) })
    await withClient(s, { authorization: 'Bearer mcp-secret', 'x-docket-agent': 'a' }, async (c) => {
      const created = await c.tool('create_task', { pipeline_id: pipelineId, title: 'behind a token' })
      const claimed = await c.tool('claim_task', { role })
      assert.is(claimed.structuredContent.task.id, created.structuredContent.task_id)
      assert.not.ok((await c.tool('complete_task', { task_id: created.structuredContent.task_id, trigger: 'complete' })).isError)
    })
  } finally {
    await s.close()
  }
})

test('list_tasks finds tasks by their words and status; wait_for_task answers when a task finishes', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const wanted = await createTask(s, pipelineId, { title: 'Rotate the billing keys', description: 'before Friday' })
  await createTask(s, pipelineId, { title: 'Something else' })
  await withClient(s, {}, async (c) => {
    const found = await c.tool('list_tasks', { pipeline: pipelineId, q: 'billing friday', status: 'claimable' })
    assert.equal(found.structuredContent.tasks.map((t: any) => t.id), [wanted])
    const waited = await c.tool('wait_for_task', { task_id: wanted, timeout_ms: 50 })
    assert.equal([waited.structuredContent.finished, waited.structuredContent.task.stage], [false, 'work'])
    const waiting = c.tool('wait_for_task', { task_id: wanted, timeout_ms: 10_000 })
    const lease = expectStatus(await s.request('POST', '/leases/claim', { agent_id: unique('a'), agent_role: role }), 200).body
    assert.is(lease.task.id, wanted)
    expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
    const done = await waiting
    assert.equal([done.structuredContent.finished, done.structuredContent.task.stage], [true, 'done'])
  })
})

test('with the admin toolset, signal_task moves a task out of a human gate', async () => {
  const s = await startServer({ mcpToolsets: new Set(['agent', 'admin']) })
  try {
    const pipelineId = await createPipeline(s, {
      initial: 'approval',
      states: { approval: { gate: true }, work: { agent_role: unique('role') }, done: { terminal: true } },
      transitions: [{ from: 'approval', to: 'work', trigger: 'approve' }, { from: 'work', to: 'done', trigger: 'complete' }],
    })
    const taskId = await createTask(s, pipelineId)
    await withClient(s, {}, async (c) => {
      const moved = await c.tool('signal_task', { task_id: taskId, trigger: 'approve', data: { by: 'ops' } })
      assert.not.ok(moved.isError, text(moved))
      assert.equal([moved.structuredContent.previous_stage, moved.structuredContent.new_stage], ['approval', 'work'])
      const again = await c.tool('signal_task', { task_id: taskId, trigger: 'approve' })
      assert.ok(again.isError)
      assert.match(text(again), 'not_a_gate')
    })
  } finally {
    await s.close()
  }
})

test.run()
