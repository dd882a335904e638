// The stdio bridge (`npm run mcp`), spawned as an MCP client would, against a real Docket over HTTP.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createTask, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { keptLog, leakedTokens, stdioClient, text } from '../helpers/mcp.ts'

const TOKEN = 'stdio-api-token'
type Ctx = { s: TestServer; log: ReturnType<typeof keptLog> }
const test = suite<Ctx>('mcp over stdio', {} as Ctx)
test.before(async (ctx) => {
  ctx.log = keptLog()
  ctx.s = await startServer({ token: TOKEN }, { log: ctx.log })
})
test.after(async (ctx) => ctx.s.close())

const api = (s: TestServer): TestServer => ({ ...s, request: (m, p, b, h) => s.request(m, p, b, { ...h, authorization: `Bearer ${TOKEN}` }) })

test('the bridge lists the agent and admin tools, and works a task through with its configured agent and role', async ({ s, log }) => {
  const { pipelineId, role } = await singleStage(api(s))
  const taskId = await createTask(api(s), pipelineId)
  const agent = unique('stdio-agent')
  const c = await stdioClient(s, ['--token', TOKEN, '--agent', agent, '--role', role, '--toolsets', 'agent,admin'])
  try {
    const names = (await c.client.listTools()).tools.map((t) => t.name)
    for (const admin of ['requeue_task', 'cancel_task', 'signal_task', 'pause_pipeline', 'resume_pipeline']) assert.ok(names.includes(admin), admin)
    assert.is(names.length, 20)
    const claimed = await c.tool('claim_task')
    assert.is(claimed.structuredContent.task.id, taskId, text(claimed))
    assert.type((await c.tool('append_event', { task_id: taskId, kind: 'step' })).structuredContent.event_id, 'number')
    assert.not.ok((await c.tool('add_artifact', { task_id: taskId, kind: 'link', uri: 'https://example.com/pr/1' })).isError)
    assert.not.ok((await c.tool('store_put', { namespace: 'notes', key: taskId, value: { text: 'stdio bridge wrote this' } })).isError)
    assert.is((await c.tool('store_search', { query: 'bridge wrote', namespace: 'notes' })).structuredContent.hits[0].key, taskId)
    assert.is((await c.tool('complete_task', { task_id: taskId, trigger: 'complete' })).structuredContent.new_stage, 'done')
    assert.is((await c.tool('pause_pipeline', { pipeline_id: pipelineId })).structuredContent.paused, true)
    const runs = expectStatus(await api(s).request('GET', `/tasks/${taskId}/runs`), 200).body.items
    assert.equal(runs.map((r: any) => [r.status, r.agent_id]), [['completed', agent]])
    assert.equal(await leakedTokens(s, [...c.transcript, c.stderr(), log.text()]), [])
    assert.not.ok(c.stderr().includes(TOKEN), 'the API token is not logged')
  } finally {
    await c.close()
  }
})

test('a restarted bridge has lost its lease map: lease_lost, and the lease expires as usual', async ({ s }) => {
  const { pipelineId, role } = await singleStage(api(s))
  const taskId = await createTask(api(s), pipelineId)
  const agent = unique('stdio-agent')
  const first = await stdioClient(s, ['--token', TOKEN, '--agent', agent])
  assert.is((await first.tool('claim_task', { role, lease_ttl_s: 30 })).structuredContent.task.id, taskId)
  await first.close()
  const second = await stdioClient(s, ['--token', TOKEN, '--agent', agent])
  try {
    const lost = await second.tool('complete_task', { task_id: taskId, trigger: 'complete' })
    assert.is(lost.structuredContent.error.code, 'lease_lost')
    assert.equal((await second.tool('my_leases')).structuredContent.leases, [])
    s.clock.advance(30_000)
    await s.docket.reaper.tick()
    const runs = expectStatus(await api(s).request('GET', `/tasks/${taskId}/runs`), 200).body.items
    assert.equal(runs.map((r: any) => r.status), ['stale'])
    assert.is((await second.tool('claim_task', { role })).structuredContent.task.id, taskId)
  } finally {
    await second.close()
  }
})

test('a bridge whose Docket is down answers docket_unreachable', async ({ s }) => {
  const c = await stdioClient({ ...s, url: 'http://127.0.0.1:9' }, ['--agent', 'a', '--role', 'r'])
  try {
    assert.is((await c.tool('claim_task')).structuredContent.error.code, 'docket_unreachable')
  } finally {
    await c.close()
  }
})

test.run()
