import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createPipeline, createTask, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { claimClient, waitersReach } from '../helpers/long-poll.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('task gates', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({}, { realTime: true }) })
test.after(async (ctx) => ctx.s.close())

/** draft(agent) → approval(gate) → publish(agent) → done; approval can also reject back to draft. */
async function gated(s: TestServer) {
  const roles = { draft: unique('drafter'), publish: unique('publisher') }
  const pipelineId = await createPipeline(s, {
    initial: 'draft',
    states: { draft: { agent_role: roles.draft }, approval: { gate: true }, publish: { agent_role: roles.publish }, done: { terminal: true } },
    transitions: [
      { from: 'draft', to: 'approval', trigger: 'submit' },
      { from: 'approval', to: 'publish', trigger: 'approve' },
      { from: 'approval', to: 'draft', trigger: 'reject' },
      { from: 'publish', to: 'done', trigger: 'complete' },
    ],
  })
  return { pipelineId, roles }
}

const signal = (s: TestServer, id: string, body: unknown, headers: Record<string, string> = {}) =>
  s.request('POST', `/tasks/${id}/signal`, body, headers)

async function atGate(s: TestServer, pipelineId: string, role: string): Promise<string> {
  const id = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'submit' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
  return id
}

test('a gate stage is never claimable; a signal moves the task on and is recorded with its data', async ({ s }) => {
  const { pipelineId, roles } = await gated(s)
  const id = await atGate(s, pipelineId, roles.draft)
  assert.is(await claim(s, roles.draft), null)
  assert.is(await claim(s, roles.publish), null)
  const res = expectStatus(await signal(s, id, { trigger: 'approve', data: { by: 'ana' }, expected_stage: 'approval' }), 200)
  assert.equal([res.body.previous_stage, res.body.new_stage, res.body.trigger], ['approval', 'publish', 'approve'])
  assert.is(res.body.task.stage, 'publish')
  assert.is(res.body.task.task_version, 3)
  const events = expectStatus(await s.request('GET', `/tasks/${id}/events`), 200).body.items
  assert.equal(events.map((e: any) => [e.kind, e.data]), [['signaled', { trigger: 'approve', from: 'approval', to: 'publish', data: { by: 'ana' } }]])
  assert.is((await claim(s, roles.publish))!.task.id, id)
})

test('a signal wakes a claim waiting on the next stage', async ({ s }) => {
  const { pipelineId, roles } = await gated(s)
  const id = await atGate(s, pipelineId, roles.draft)
  const waiting = claimClient(s).claim(roles.publish, 5000, unique('agent'))
  await waitersReach(s, 1)
  expectStatus(await signal(s, id, { trigger: 'approve' }), 200)
  assert.is((await waiting).body.task.id, id)
})

test('conflicts: not a gate, wrong expected_stage, canceled task; bad trigger is 400', async ({ s }) => {
  const { pipelineId, roles } = await gated(s)
  const drafting = await createTask(s, pipelineId, { priority: -10 })
  expectError(await signal(s, drafting, { trigger: 'submit' }), 409, 'not_a_gate')
  const id = await atGate(s, pipelineId, roles.draft)
  expectError(await signal(s, id, { trigger: 'approve', expected_stage: 'publish' }), 409, 'expected_stage_mismatch')
  expectError(await signal(s, id, { trigger: 'complete' }), 400, 'invalid_transition')
  const bad = expectError(await signal(s, id, { data: 1 }), 400, 'validation_failed')
  assert.is(bad.body.error.details[0].path, 'trigger')
  expectError(await signal(s, 'ghost', { trigger: 'approve' }), 404, 'not_found')
  expectStatus(await s.request('POST', `/tasks/${id}/cancel`, {}), 200)
  expectError(await signal(s, id, { trigger: 'approve' }), 409, 'conflict')
})

test('a gate with an agent_role, or a terminal gate, is not a valid pipeline', async ({ s }) => {
  const bad = await s.request('POST', '/pipelines', { name: unique('p'), definition: {
    initial: 'a', states: { a: { gate: true, agent_role: 'x' }, b: { terminal: true, gate: true } }, transitions: [{ from: 'a', to: 'b', trigger: 't' }],
  } })
  const res = expectError(bad, 400, 'validation_failed')
  const paths = res.body.error.details.map((d: any) => d.path)
  assert.ok(paths.includes('definition.states["a"].agent_role'), res.text)
  assert.ok(paths.includes('definition.states["b"].gate'), res.text)
})

test('/ops/queue counts the tasks waiting at each gate', async ({ s }) => {
  const { pipelineId, roles } = await gated(s)
  const gateOf = async () => (await s.request('GET', '/ops/queue')).body.gates.find((g: any) => g.pipeline_id === pipelineId)
  assert.is((await gateOf()).waiting_count, 0)
  const a = await atGate(s, pipelineId, roles.draft)
  await atGate(s, pipelineId, roles.draft)
  assert.equal(await gateOf(), { pipeline_id: pipelineId, pipeline_name: (await gateOf()).pipeline_name, stage: 'approval', waiting_count: 2 })
  expectStatus(await signal(s, a, { trigger: 'reject' }), 200)
  assert.is((await gateOf()).waiting_count, 1)
})

test('with an API token, a signal needs it', async () => {
  const s = await startServer({ token: 'secret-token' })
  try {
    const auth = { authorization: 'Bearer secret-token' }
    const roles = { draft: unique('d') }
    const pipelineId = expectStatus(await s.request('POST', '/pipelines', { name: unique('p'), definition: {
      initial: 'draft', states: { draft: { agent_role: roles.draft }, approval: { gate: true }, done: { terminal: true } },
      transitions: [{ from: 'draft', to: 'approval', trigger: 'submit' }, { from: 'approval', to: 'done', trigger: 'approve' }],
    } }, auth), 201).body.id
    const id = expectStatus(await s.request('POST', '/tasks', { pipeline_id: pipelineId, title: 't', description: 'd' }, auth), 201).body.id
    const lease = (await claim(s, roles.draft, {}, auth))!
    expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'submit' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
    expectError(await signal(s, id, { trigger: 'approve' }, { authorization: `Bearer ${lease.lease_token}` }), 401, 'unauthorized')
    expectStatus(await signal(s, id, { trigger: 'approve' }, auth), 200)
  } finally {
    await s.close()
  }
})

test.run()
