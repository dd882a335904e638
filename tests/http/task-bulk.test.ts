import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { claimClient, waitersReach } from '../helpers/long-poll.ts'
import { BULK_BATCH } from '../../src/http/routes/bulk.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('task bulk', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({}, { realTime: true }) })
test.after(async (ctx) => ctx.s.close())

const auth = (lease: { lease_token: string }) => ({ authorization: `Bearer ${lease.lease_token}` })

/** `n` tasks of a one-attempt pipeline, each failed once: dead letters. */
async function deadLetters(s: TestServer, n: number) {
  const { pipelineId, role } = await singleStage(s)
  const tasks = expectStatus(await s.request('POST', '/tasks/bulk', {
    tasks: Array.from({ length: n }, (_, i) => ({ pipeline_id: pipelineId, title: `t${i}`, description: 'd', retry_policy: { max_attempts: 1 } })),
  }), 201).body.ids as string[]
  for (let i = 0; i < n; i++) {
    const lease = (await claim(s, role))!
    expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'no' }, auth(lease)), 200)
  }
  return { pipelineId, role, ids: tasks }
}

test('requeue by ids answers per item; unknown ids fail alone', async ({ s }) => {
  const { ids, role } = await deadLetters(s, 3)
  const res = expectStatus(await s.request('POST', '/tasks/requeue', { ids: [ids[0], 'ghost', ids[1]] }), 200)
  assert.equal(res.body.matched, 3)
  assert.equal(res.body.changed, 2)
  assert.equal(res.body.results.map((r: any) => [r.id, r.ok, r.error?.code]), [[ids[0], true, undefined], ['ghost', false, 'not_found'], [ids[1], true, undefined]])
  const events = expectStatus(await s.request('GET', `/tasks/${ids[0]}/events`), 200).body.items
  assert.equal(events.map((e: any) => [e.kind, e.data]), [['requeued', { bulk: true, from_stage: 'work', to_stage: 'work' }]])
  const run = expectStatus(await s.request('GET', `/tasks/${ids[0]}/run-state`), 200).body
  const runEvents = expectStatus(await s.request('GET', `/runs/${run.run_id}/events`), 200).body.items
  assert.equal(runEvents.at(-1).kind, 'requeued')
  assert.equal(runEvents.at(-1).data, { from_stage: 'work', to_stage: 'work' })
  assert.ok((await claim(s, role)) !== null)
})

test('requeue by filter takes every dead letter of the pipeline, in batches', async ({ s }) => {
  const n = BULK_BATCH + 5
  const { pipelineId, role, ids } = await deadLetters(s, n)
  const live = await createTask(s, pipelineId)
  const res = expectStatus(await s.request('POST', '/tasks/requeue', { filter: { pipeline_id: pipelineId, status: 'dead_lettered' } }), 200)
  assert.equal([res.body.matched, res.body.changed], [n, n])
  assert.equal(new Set(res.body.results.map((r: any) => r.id)), new Set(ids))
  assert.ok(!res.body.results.some((r: any) => r.id === live))
  const rows = await s.sql('SELECT count(*) AS n FROM tasks WHERE pipeline_id = ? AND dead_letter_reason IS NOT NULL', pipelineId)
  assert.is(Number(rows[0].n), 0)
  const task = expectStatus(await s.request('GET', `/tasks/${ids[0]}`), 200).body
  assert.is(task.task_version, 2)
  assert.ok((await claim(s, role)) !== null)
})

test('a bulk requeue wakes a waiting claim and resets the attempts', async ({ s }) => {
  const { pipelineId, role, ids } = await deadLetters(s, 1)
  const waiting = claimClient(s).claim(role, 5000, unique('agent'))
  await waitersReach(s, 1)
  expectStatus(await s.request('POST', '/tasks/requeue', { filter: { pipeline_id: pipelineId, dead_letter_reason: 'max_attempts_exceeded' } }), 200)
  const answer = await waiting
  assert.is(answer.status, 200)
  assert.is(answer.body.task.id, ids[0])
  const lease = answer.body
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/fail`, { error: 'again' }, auth(lease)), 200)
  assert.is(expectStatus(await s.request('GET', `/tasks/${ids[0]}`), 200).body.dead_letter_reason, 'max_attempts_exceeded')
})

test('cancel by ids and by filter; a task already canceled is ok but not changed; a leased one is canceled too', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const [a, b] = [await createTask(s, pipelineId), await createTask(s, pipelineId)]
  const lease = (await claim(s, role))!
  const first = expectStatus(await s.request('POST', '/tasks/cancel', { ids: [a], reason: 'obsolete' }), 200).body
  assert.equal([first.matched, first.changed], [1, 1])
  const all = expectStatus(await s.request('POST', '/tasks/cancel', { filter: { pipeline_id: pipelineId } }), 200).body
  assert.equal([all.matched, all.changed], [2, 1])
  assert.ok(all.results.every((r: any) => r.ok))
  const canceledEvents = expectStatus(await s.request('GET', `/tasks/${a}/events`), 200).body.items
  assert.equal(canceledEvents.map((e: any) => [e.kind, e.data]), [['canceled', { bulk: true, reason: 'obsolete' }]])
  const leaseEvents = expectStatus(await s.request('GET', `/runs/${lease.run.id}/events`), 200).body.items
  assert.equal(leaseEvents.at(-1).kind, 'canceled')
  const run = expectStatus(await s.request('GET', `/runs/${lease.run.id}`), 200).body
  assert.is(run.status, 'canceled')
  assert.is(expectStatus(await s.request('GET', `/tasks/${b}`), 200).body.dead_letter_reason, 'canceled')
  const requeued = expectStatus(await s.request('POST', '/tasks/requeue', { filter: { pipeline_id: pipelineId, status: 'canceled' } }), 200).body
  assert.equal([requeued.matched, requeued.changed], [2, 2])
})

test('a leased task fails its item with conflict; stage moves every requeued task there', async ({ s }) => {
  const { pipelineId, role, ids } = await deadLetters(s, 2)
  const leased = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  assert.is(lease.task.id, leased)
  const res = expectStatus(await s.request('POST', '/tasks/requeue', { ids: [leased, ...ids], stage: 'parked' }), 200).body
  assert.equal(res.results.map((r: any) => [r.ok, r.error?.code]), [[false, 'conflict'], [true, undefined], [true, undefined]])
  assert.equal([res.matched, res.changed], [3, 2])
  for (const id of ids) assert.is(expectStatus(await s.request('GET', `/tasks/${id}`), 200).body.stage, 'parked')
  const plain = expectStatus(await s.request('POST', '/tasks/requeue', { ids: [leased, 'ghost'] }), 200).body
  assert.equal(plain.results.map((r: any) => [r.ok, r.error?.code]), [[false, 'conflict'], [false, 'not_found']])
  const runEvents = expectStatus(await s.request('GET', `/runs/${lease.run.id}/events`), 200).body.items
  assert.ok(!runEvents.some((e: any) => e.kind === 'requeued'))
})

test('bad input is 400 with details', async ({ s }) => {
  const cases: unknown[] = [
    {},
    { ids: [] },
    { filter: {} },
    { ids: ['a'], filter: { stage: 'x' } },
    { ids: Array.from({ length: 1001 }, (_, i) => `t${i}`) },
    { filter: { status: 'sleeping' } },
    { filter: { dead_letter_reason: 'bored' } },
    { filter: { created_before_ms: -1 } },
    { filter: { colour: 'red' } },
  ]
  for (const path of ['/tasks/requeue', '/tasks/cancel']) {
    for (const body of cases) {
      const res = expectError(await s.request('POST', path, body), 400, 'validation_failed')
      assert.ok(res.body.error.details.length > 0, JSON.stringify(body))
    }
  }
})

test('created_before_ms and stage narrow a filter', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const old = await createTask(s, pipelineId)
  const cutoff = expectStatus(await s.request('GET', `/tasks/${old}`), 200).body.created_at_ms + 1
  await new Promise((resolve) => setTimeout(resolve, 5))
  await createTask(s, pipelineId)
  const res = expectStatus(await s.request('POST', '/tasks/cancel', { filter: { pipeline_id: pipelineId, stage: 'work', created_before_ms: cutoff } }), 200).body
  assert.equal(res.results.map((r: any) => r.id), [old])
})

test('a refused item carries the details a single request would have answered', async ({ s }) => {
  const { ids } = await deadLetters(s, 1)
  const res = expectStatus(await s.request('POST', '/tasks/requeue', { ids, stage: 'nowhere' }), 200).body
  assert.is(res.results[0].ok, false)
  assert.is(res.results[0].error.code, 'validation_failed')
  assert.equal(res.results[0].error.details.map((d: any) => d.path), ['stage'])
})

test.run()
