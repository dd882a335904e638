import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createPipeline, createTask, expectError, expectStatus, linearDefinition, singleStage, unique } from '../helpers/fixtures.ts'
import { tick } from '../helpers/long-poll.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('task wait', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({}, { realTime: true }) })
test.after(async (ctx) => ctx.s.close())

const wait = (s: TestServer, id: string, query: string) => s.request('GET', `/tasks/${id}/wait?${query}`)
const transition = (s: TestServer, lease: { run: { id: string }; lease_token: string }, trigger: string) =>
  s.request('POST', `/runs/${lease.run.id}/transition`, { trigger }, { authorization: `Bearer ${lease.lease_token}` })

/** Waits (bounded) until the server holds `n` waits for task outcomes. */
async function watchersReach(s: TestServer, n: number, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs
  while (s.docket.app.taskWatch.count() !== n && performance.now() < until) await tick(2)
  assert.is(s.docket.app.taskWatch.count(), n)
}

test('a wait answers 200 as soon as the task reaches a terminal stage', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const waiting = wait(s, id, 'timeout_ms=5000')
  await watchersReach(s, 1)
  const started = performance.now()
  expectStatus(await transition(s, (await claim(s, role))!, 'complete'), 200)
  const res = expectStatus(await waiting, 200)
  assert.is(res.body.stage, 'done')
  assert.ok(performance.now() - started < 1000)
  await watchersReach(s, 0)
})

test('a task already done answers 200 at once; ?stage= ends the wait at that stage', async ({ s }) => {
  const pipelineId = await createPipeline(s, linearDefinition({ work: unique('w'), review: unique('r') }))
  const id = await createTask(s, pipelineId)
  const review = wait(s, id, 'timeout_ms=5000&stage=review')
  await watchersReach(s, 1)
  const task = expectStatus(await s.request('GET', `/tasks/${id}`), 200).body
  const role = (await s.request('GET', `/pipelines/${pipelineId}`)).body.definition.states.work.agent_role
  expectStatus(await transition(s, (await claim(s, role))!, 'complete'), 200)
  assert.is(expectStatus(await review, 200).body.stage, 'review')
  assert.is(task.stage, 'work')
  assert.is(expectStatus(await wait(s, id, 'timeout_ms=5000&stage=review'), 200).body.stage, 'review')
})

test('dead letters and cancels end a wait', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const failing = await createTask(s, pipelineId, { retry_policy: { max_attempts: 1 } })
  const canceled = await createTask(s, pipelineId, { priority: -1 })
  const [a, b] = [wait(s, failing, 'timeout_ms=5000'), wait(s, canceled, 'timeout_ms=5000')]
  await watchersReach(s, 2)
  const lease = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'no' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
  assert.is(expectStatus(await a, 200).body.dead_letter_reason, 'max_attempts_exceeded')
  expectStatus(await s.request('POST', `/tasks/${canceled}/cancel`, {}), 200)
  assert.is(expectStatus(await b, 200).body.dead_letter_reason, 'canceled')
})

test('a retry does not end a wait; the time running out answers 202 with the task', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId, { retry_policy: { max_attempts: 3 } })
  const waiting = wait(s, id, 'timeout_ms=300')
  await watchersReach(s, 1)
  const lease = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'again' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
  const res = expectStatus(await waiting, 202)
  assert.is(res.body.id, id)
  assert.is(res.body.stage, 'work')
  assert.is(res.body.dead_letter_reason, null)
})

test('bad timeout_ms is 400 with details; an unknown task is 404; a deleted one ends its wait with 404', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  for (const q of ['timeout_ms=60001', 'timeout_ms=-1', 'timeout_ms=abc']) {
    const res = expectError(await wait(s, id, q), 400, 'validation_failed')
    assert.is(res.body.error.details[0].path, 'query.timeout_ms')
  }
  expectError(await wait(s, 'ghost', 'timeout_ms=10'), 404, 'not_found')
  const waiting = wait(s, id, 'timeout_ms=5000')
  await watchersReach(s, 1)
  expectStatus(await s.request('DELETE', `/tasks/${id}`), 204)
  expectError(await waiting, 404, 'not_found')
})

test('a thousand waiters are answered by one write', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const waits = Array.from({ length: 1000 }, () => wait(s, id, 'timeout_ms=20000'))
  await watchersReach(s, 1000, 15_000)
  expectStatus(await transition(s, (await claim(s, role))!, 'complete'), 200)
  const answers = await Promise.all(waits)
  assert.ok(answers.every((r) => r.status === 200 && r.body.stage === 'done'))
  await watchersReach(s, 0)
})

test('a client that goes away stops waiting', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId)
  const controller = new AbortController()
  const waiting = fetch(`${s.url}/tasks/${id}/wait?timeout_ms=20000`, { signal: controller.signal }).catch(() => 'aborted')
  await watchersReach(s, 1)
  controller.abort()
  assert.is(await waiting, 'aborted')
  await watchersReach(s, 0)
})

test.run()
