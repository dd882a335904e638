// Issue 13, item 1: a lease is committed only for a waiter that will receive it. Each interleaving that once
// left a lease held by nobody is forced here with a gate on the claim's commit; a randomized run follows.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createTask, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { claimClient, holdClaimAnswers, tick, waitersReach } from '../helpers/long-poll.ts'
import { prng } from '../helpers/random.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('long-poll delivery', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({}, { realTime: true }) })
test.after(async (ctx) => ctx.s.close())

const runsOfTask = async (s: TestServer, taskId: string) => expectStatus(await s.request('GET', `/tasks/${taskId}/runs`), 200).body.items as any[]

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const end = performance.now() + timeoutMs
  while (!(await condition()) && performance.now() < end) await tick(2)
  assert.ok(await condition(), 'condition not reached in time')
}

/** A claim (no wait) whose client goes away while its lease is committed; resolves once it was given back. */
async function claimAndGo(s: TestServer, taskId: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const gate = holdClaimAnswers(s)
  const abort = new AbortController()
  const gone = fetch(`${s.url}/leases/claim`, { method: 'POST', body, headers, signal: abort.signal }).catch(() => null)
  await until(() => gate.held() === 1)
  abort.abort()
  await gone
  await tick(20) // the server hears of the disconnect
  gate.open()
  await until(async () => (await runsOfTask(s, taskId))[0]?.status === 'released')
}

test('many commits in one turn wake each waiter once: 40 waiters, 40 concurrent creates, 6 rounds', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const client = claimClient(s)
  for (let round = 0; round < 6; round++) {
    const answers = Array.from({ length: 40 }, (_, i) => client.claim(role, 5_000, `agent-${round}-${i}`))
    await waitersReach(s, 40)
    await Promise.all(Array.from({ length: 40 }, () => createTask(s, pipelineId)))
    const statuses = (await Promise.all(answers)).map((a) => a.status)
    assert.equal(statuses.filter((x) => x !== 200), [], `round ${round}`)
  }
  await client.assertEveryLeaseDelivered()
  assert.is(client.delivered.size, 240)
})

test('a claim whose deadline passes while its lease is committed still receives that lease', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const client = claimClient(s)
  const gate = holdClaimAnswers(s)
  const answer = client.claim(role, 300, unique('agent'))
  await waitersReach(s, 1)
  const taskId = await createTask(s, pipelineId)
  await until(() => gate.held() === 1)
  await tick(400) // the claim's wait_ms is over
  gate.open()
  const a = await answer
  assert.is(a.status, 200)
  assert.is(a.body.task.id, taskId)
  await client.assertEveryLeaseDelivered()
})

test('a client gone while its lease is committed gets nothing; the lease is given back and the next waiter gets the task', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const client = claimClient(s)
  const gate = holdClaimAnswers(s)
  const abort = new AbortController()
  const gone = client.claim(role, 5_000, 'gone', abort.signal).catch(() => null)
  await waitersReach(s, 1)
  const next = client.claim(role, 5_000, 'next')
  await waitersReach(s, 2)
  const taskId = await createTask(s, pipelineId)
  await until(() => gate.held() === 1)
  abort.abort()
  await gone
  await tick(20) // the server hears of the disconnect
  gate.open()
  const a = await next
  assert.is(a.status, 200)
  assert.is(a.body.task.id, taskId)
  const [first, second] = await runsOfTask(s, taskId)
  assert.is(first.agent_id, 'gone')
  assert.is(first.status, 'released')
  assert.equal(await s.sql('SELECT lease_expires_at_ms FROM runs WHERE id = ?', first.id), [{ lease_expires_at_ms: null }])
  assert.is(second.agent_id, 'next')
  const [{ failed_attempts: failed }] = await s.sql('SELECT failed_attempts FROM tasks WHERE id = ?', taskId)
  assert.is(failed, 0, 'a released lease is no failed attempt')
  const events = expectStatus(await s.request('GET', `/runs/${first.id}/events`), 200).body.items
  assert.equal(events.map((e: any) => [e.kind, e.data.reason]), [['released', 'client_gone']])
  await client.assertEveryLeaseDelivered()
})

test('a claim without wait_ms whose client is gone before its answer gives the lease back', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  await claimAndGo(s, taskId, JSON.stringify({ agent_id: 'gone', agent_role: role }))
  const lease = (await claim(s, role))!
  assert.is(lease.task.id, taskId)
  assert.is(lease.run.attempt, 2)
})

test('a released claim sent with an Idempotency-Key is not replayed: a retry with the key claims afresh', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const body = JSON.stringify({ agent_id: 'retrier', agent_role: role })
  const headers = { 'idempotency-key': unique('key') }
  await claimAndGo(s, taskId, body, headers)
  const retry = expectStatus(await s.request('POST', '/leases/claim', body, headers), 200).body
  assert.is(retry.task.id, taskId)
  assert.is(retry.run.attempt, 2)
  assert.is(expectStatus(await s.request('GET', `/runs/${retry.run.id}`), 200).body.status, 'running')
})

test('shutdown answers waiting claims 204 but a claim whose lease is being committed gets its lease', async () => {
  const s = await startServer({}, { realTime: true })
  try {
    const { pipelineId, role } = await singleStage(s)
    const other = await singleStage(s)
    const client = claimClient(s)
    const gate = holdClaimAnswers(s)
    const inFlight = client.claim(role, 5_000, unique('agent'))
    const idle = client.claim(other.role, 5_000, unique('agent'))
    await waitersReach(s, 2)
    await createTask(s, pipelineId)
    await until(() => gate.held() === 1)
    s.docket.close()
    assert.is((await idle).status, 204)
    gate.open()
    assert.is((await inFlight).status, 200)
    await client.assertEveryLeaseDelivered()
  } finally {
    await s.close()
  }
})

test('randomized: deadlines, single and bulk creates race; every live lease was delivered and no task is lost', async ({ s }) => {
  const random = prng(Number(process.env.FUZZ_SEED ?? 1313))
  const { pipelineId, role } = await singleStage(s)
  const client = claimClient(s)
  let created = 0
  for (let round = 0; round < 5; round++) {
    const answers = Array.from({ length: 60 }, (_, i) => client.claim(role, 20 + Math.floor(random() * 150), `r${round}-${i}`))
    const creates: Promise<unknown>[] = []
    for (let i = 0; i < 12; i++) {
      const delay = Math.floor(random() * 200)
      const n = random() < 0.5 ? 1 : 1 + Math.floor(random() * 8)
      created += n
      creates.push(tick(delay).then((): Promise<unknown> => (n === 1
        ? createTask(s, pipelineId)
        : s.request('POST', '/tasks/bulk', { tasks: Array.from({ length: n }, () => ({ pipeline_id: pipelineId, title: 't', description: '' })) }))))
    }
    await Promise.all([...answers, ...creates])
  }
  await client.assertEveryLeaseDelivered()
  const [{ n: claimable }] = await s.sql('SELECT count(*) AS n FROM tasks WHERE pipeline_id = ? AND active_run_id IS NULL', pipelineId)
  assert.is(client.delivered.size + claimable, created)
})

test.run()
