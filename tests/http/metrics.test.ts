import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createPipeline, createTask, expectStatus, unique } from '../helpers/fixtures.ts'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { parseScrape } from '../helpers/prometheus.ts'
import { readableSpan } from '../helpers/otlp.ts'
import { idTimeMs } from '../../src/domain/ids.ts'

const test = suite<{ s: TestServer }>('metrics', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const scrape = async (s: TestServer) => parseScrape(await s.request('GET', '/metrics'))

/** work (role) → review (role) → done, under a fresh name; returns its id, name and roles. */
async function pipeline(s: TestServer) {
  const name = unique('pipeline')
  const roles = { work: unique('worker'), review: unique('reviewer') }
  const definition = {
    initial: 'work',
    states: { work: { agent_role: roles.work }, review: { agent_role: roles.review }, done: { terminal: true } },
    transitions: [{ from: 'work', to: 'review', trigger: 'complete' }, { from: 'review', to: 'done', trigger: 'approve' }],
  }
  const id = expectStatus(await s.request('POST', '/pipelines', { name, definition }), 201).body.id as string
  return { id, name, roles }
}

const transition = async (s: TestServer, lease: { run: { id: string }; lease_token: string }, trigger: string) =>
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger }, bearer(lease.lease_token)), 200)

test('the scrape is the Prometheus text format, with the process metrics', async ({ s }) => {
  const res = expectStatus(await s.request('GET', '/metrics'), 200)
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/)
  const m = parseScrape(res)
  for (const name of ['nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'process_cpu_seconds_total']) {
    assert.ok(m.families.has(name), `${name} is scraped`)
  }
  assert.is(m.families.get('docket_tasks')!.type, 'GAUGE')
  assert.is(m.families.get('docket_queue_wait_seconds')!.type, 'HISTOGRAM')
})

test('tasks are counted by pipeline, stage and state after a known workload', async ({ s }) => {
  const p = await pipeline(s)
  const place = (stage: string, state: string) => ({ pipeline: p.name, stage, state })
  // Dead-lettered: one attempt allowed, failed.
  await createTask(s, p.id, { priority: 30, retry_policy: { max_attempts: 1 } })
  const dead = (await claim(s, p.roles.work))!
  expectStatus(await s.request('POST', `/runs/${dead.run.id}/fail`, { error: 'boom' }, bearer(dead.lease_token)), 200)
  // Done: through both stages.
  await createTask(s, p.id, { priority: 20 })
  await transition(s, (await claim(s, p.roles.work))!, 'complete')
  await transition(s, (await claim(s, p.roles.review))!, 'approve')
  // Leased, then claimable, delayed, blocked (on the claimable one) and canceled.
  await createTask(s, p.id, { priority: 10 })
  const leased = (await claim(s, p.roles.work))!
  const claimable = await createTask(s, p.id)
  s.clock.advance(5_000)
  await createTask(s, p.id, { not_before_ms: s.clock.now() + 60_000 })
  await createTask(s, p.id, { dependencies: [claimable] })
  const canceled = await createTask(s, p.id)
  expectStatus(await s.request('POST', `/tasks/${canceled}/cancel`, {}), 200)

  const m = await scrape(s)
  assert.is(m.value('docket_tasks', place('work', 'claimable')), 1)
  assert.is(m.value('docket_tasks', place('work', 'delayed')), 1)
  assert.is(m.value('docket_tasks', place('work', 'blocked')), 1)
  assert.is(m.value('docket_tasks', place('work', 'leased')), 1)
  assert.is(m.value('docket_tasks', place('work', 'dead_lettered')), 1)
  assert.is(m.value('docket_tasks', place('work', 'canceled')), 1)
  assert.is(m.value('docket_tasks', place('done', 'done')), 1)
  assert.is(m.value('docket_tasks', place('review', 'claimable')), 0)
  assert.is(m.value('docket_oldest_claimable_age_seconds', { pipeline: p.name, stage: 'work' }), 5)
  assert.is(m.value('docket_oldest_claimable_age_seconds', { pipeline: p.name, stage: 'review' }), 0)

  // The delayed task becomes claimable by the clock alone; the leased one completes.
  s.clock.advance(60_000)
  await transition(s, leased, 'complete')
  const later = await scrape(s)
  assert.is(later.value('docket_tasks', place('work', 'claimable')), 2)
  assert.is(later.value('docket_tasks', place('work', 'delayed')), 0)
  assert.is(later.value('docket_tasks', place('work', 'leased')), 0)
  assert.is(later.value('docket_tasks', place('review', 'claimable')), 1)
  assert.is(later.value('docket_oldest_claimable_age_seconds', { pipeline: p.name, stage: 'work' }), 65)
})

test('claims, queue waits, run durations and heartbeats are counted', async ({ s }) => {
  const p = await pipeline(s)
  const before = await scrape(s)
  await createTask(s, p.id)
  s.clock.advance(3_000)
  const lease = (await claim(s, p.roles.work))!
  expectStatus(await s.request('POST', `/leases/${lease.run.id}/heartbeat`, {}, bearer(lease.lease_token)), 200)
  s.clock.advance(2_000)
  await transition(s, lease, 'complete')
  assert.is(await claim(s, p.roles.work), null)

  const m = await scrape(s)
  const delta = (name: string, labels?: Record<string, string>) => m.value(name, labels) - before.value(name, labels)
  assert.is(delta('docket_claims_total', { outcome: 'claimed' }), 1)
  assert.is(delta('docket_claims_total', { outcome: 'empty' }), 1)
  assert.is(delta('docket_heartbeats_total'), 1)
  const wait = m.histogram('docket_queue_wait_seconds')
  const waitBefore = before.histogram('docket_queue_wait_seconds')
  assert.is(wait.count - waitBefore.count, 1)
  assert.ok(Math.abs(wait.sum - waitBefore.sum - 3) < 1e-6, 'the task waited the 3 s the clock moved')
  const run = m.histogram('docket_run_duration_seconds', { outcome: 'completed' })
  const runBefore = before.histogram('docket_run_duration_seconds', { outcome: 'completed' })
  assert.is(run.count - runBefore.count, 1)
  // Measured from the run id's UUIDv7 time: the claim's clock reading (2 s here), unless ids made by other
  // test files in this process, on the real clock, ran ahead of this manual one (then 0: never negative).
  const expected = Math.max(0, s.clock.now() - idTimeMs(lease.run.id)!) / 1000
  assert.ok(Math.abs(run.sum - runBefore.sum - expected) < 1e-6, `the run lasted ${expected} s, not ${run.sum - runBefore.sum}`)
})

test('lease expirations, requeues, failed runs and dead letters (of a failed run or of an expired lease) are counted', async ({ s }) => {
  const p = await pipeline(s)
  const before = await scrape(s)
  const task = await createTask(s, p.id, { retry_policy: { max_attempts: 1 } })
  await claim(s, p.roles.work, { lease_ttl_ms: 1_000 })
  s.clock.advance(2_000)
  assert.is(await s.docket.reaper.tick(), 1)
  expectStatus(await s.request('POST', `/tasks/${task}/requeue`, {}), 200)
  const again = (await claim(s, p.roles.work))!
  expectStatus(await s.request('POST', `/runs/${again.run.id}/fail`, { error: 'no' }, bearer(again.lease_token)), 200)
  const m = await scrape(s)
  assert.is(m.value('docket_lease_expirations_total') - before.value('docket_lease_expirations_total'), 1)
  assert.is(m.value('docket_requeues_total') - before.value('docket_requeues_total'), 1)
  // Two dead letters: the expired lease's (max_attempts 1), then, after the requeue, the failed run's.
  assert.is(m.value('docket_dead_letters_total') - before.value('docket_dead_letters_total'), 2)
  assert.is(m.histogram('docket_run_duration_seconds', { outcome: 'failed' }).count - before.histogram('docket_run_duration_seconds', { outcome: 'failed' }).count, 1)
  assert.is(m.histogram('docket_run_duration_seconds', { outcome: 'expired' }).count - before.histogram('docket_run_duration_seconds', { outcome: 'expired' }).count, 1)
  assert.is(m.value('docket_tasks', { pipeline: p.name, stage: 'work', state: 'dead_lettered' }), 1)
})

test('a canceled task whose dependency resolves stays counted as canceled', async ({ s }) => {
  const p = await pipeline(s)
  const upstream = await createTask(s, p.id, { priority: 5 })
  const dependent = await createTask(s, p.id, { dependencies: [upstream] })
  expectStatus(await s.request('POST', `/tasks/${dependent}/cancel`, {}), 200)
  await transition(s, (await claim(s, p.roles.work))!, 'complete')
  await transition(s, (await claim(s, p.roles.review))!, 'approve')
  const m = await scrape(s)
  assert.is(m.value('docket_tasks', { pipeline: p.name, stage: 'work', state: 'canceled' }), 1)
  assert.is(m.value('docket_tasks', { pipeline: p.name, stage: 'work', state: 'blocked' }), 0)
  assert.is(m.value('docket_tasks', { pipeline: p.name, stage: 'done', state: 'done' }), 1)
})

test('store puts and searches and accepted OTLP spans are counted', async ({ s }) => {
  const before = await scrape(s)
  const ns = unique('ns')
  expectStatus(await s.request('PUT', `/store/${ns}/k`, { value: { note: 'hello metrics' } }), 204)
  expectStatus(await s.request('GET', `/store/search?q=hello&namespace=${ns}`), 200)
  const otlp = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest([readableSpan(), readableSpan()])!).toString())
  assert.is(expectStatus(await s.request('POST', '/v1/traces', otlp, { 'content-type': 'application/json' }), 200).body.accepted_spans, 2)
  const m = await scrape(s)
  assert.is(m.value('docket_store_puts_total') - before.value('docket_store_puts_total'), 1)
  assert.is(m.value('docket_store_searches_total') - before.value('docket_store_searches_total'), 1)
  assert.is(m.value('docket_otlp_spans_accepted_total') - before.value('docket_otlp_spans_accepted_total'), 2)
})

test('requests are timed by route template and status, with no id in any label', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const task = await createTask(s, pipelineId)
  expectStatus(await s.request('GET', `/tasks/${task}`), 200)
  expectStatus(await s.request('GET', '/tasks/no-such-task'), 404)
  expectStatus(await s.request('GET', '/no/such/path'), 404)
  const res = expectStatus(await s.request('GET', '/metrics'), 200)
  const m = parseScrape(res)
  assert.ok(m.histogram('docket_http_request_duration_seconds', { method: 'GET', route: '/tasks/:id', status: '200' }).count >= 1)
  assert.ok(m.histogram('docket_http_request_duration_seconds', { method: 'GET', route: '/tasks/:id', status: '404' }).count >= 1)
  assert.ok(m.histogram('docket_http_request_duration_seconds', { method: 'GET', route: 'unmatched', status: '404' }).count >= 1)
  for (const text of [task, pipelineId, 'no-such-task', '/no/such/path', 'agent-']) assert.not.ok(res.text.includes(text), `${text} is in no label`)
})

test.run()
