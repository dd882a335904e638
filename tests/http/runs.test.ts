import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createTask, expectError, expectStatus, singleStage, type Lease } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('runs', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

async function leased(s: TestServer, fields: Record<string, unknown> = {}, claimFields: Record<string, unknown> = {}): Promise<Lease & { role: string }> {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId, fields)
  return { ...(await claim(s, role, claimFields))!, role }
}

const post = (s: TestServer, path: string, body: unknown, token: string) => s.request('POST', path, body, bearer(token))

test('heartbeat extends by the claimed TTL, or by a given one', async ({ s }) => {
  const l = await leased(s, {}, { lease_ttl_ms: 10_000 })
  s.clock.advance(5_000)
  assert.is(expectStatus(await post(s, `/leases/${l.lease_id}/heartbeat`, undefined, l.lease_token), 200).body.expires_at_ms, s.clock.now() + 10_000)
  assert.is(expectStatus(await post(s, `/leases/${l.lease_id}/heartbeat`, { lease_ttl_ms: 2_000 }, l.lease_token), 200).body.expires_at_ms, s.clock.now() + 2_000)
  expectError(await post(s, `/leases/${l.lease_id}/heartbeat`, { lease_ttl_ms: 5 }, l.lease_token), 400, 'validation_failed')
})

test('lease routes: no bearer 401, malformed token 401, unknown id 404, expired 410', async ({ s }) => {
  const l = await leased(s, {}, { lease_ttl_ms: 1_000 })
  expectError(await s.request('POST', `/leases/${l.lease_id}/heartbeat`), 401, 'unauthorized')
  expectError(await post(s, `/leases/${l.lease_id}/heartbeat`, undefined, 'abc'), 401, 'unauthorized')
  expectError(await post(s, `/leases/${l.lease_id}/heartbeat`, undefined, l.lease_token.slice(0, 63)), 401, 'unauthorized')
  expectError(await post(s, '/leases/nope/heartbeat', undefined, l.lease_token), 404, 'not_found')
  expectError(await post(s, `/runs/nope/events`, { kind: 'x' }, l.lease_token), 404, 'not_found')
  s.clock.advance(1_000)
  expectError(await post(s, `/leases/${l.lease_id}/heartbeat`, undefined, l.lease_token), 410, 'expired')
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'complete' }, l.lease_token), 410, 'expired')
  await s.docket.reaper.tick()
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'complete' }, l.lease_token), 404, 'not_found')
})

test('a token of run A never acts on run B', async ({ s }) => {
  const a = await leased(s)
  const b = await leased(s)
  for (const path of [`/leases/${b.lease_id}/heartbeat`, `/runs/${b.run.id}/events`, `/runs/${b.run.id}/transition`, `/runs/${b.run.id}/fail`]) {
    expectError(await post(s, path, { kind: 'k', trigger: 'complete', error: 'e' }, a.lease_token), 401, 'unauthorized')
  }
  assert.is(expectStatus(await s.request('GET', `/runs/${b.run.id}`), 200).body.status, 'running')
})

test('the lease is proven before the request is validated, and before an Idempotency-Key replays', async ({ s }) => {
  const a = await leased(s)
  const b = await leased(s)
  const routes = [`/leases/${b.lease_id}/heartbeat`, `/runs/${b.run.id}/events`, `/runs/${b.run.id}/transition`, `/runs/${b.run.id}/fail`]
  const invalid = [{ lease_ttl_ms: 5 }, { kind: 'transition' }, { trigger: 5 }, { error: 7 }]
  for (const [i, path] of routes.entries()) {
    // Valid or not, the request answers the same for a wrong token and for an unknown run, message and all.
    const wrong = expectError(await post(s, path, invalid[i], a.lease_token), 401, 'unauthorized')
    assert.is(wrong.body.error.message, 'Invalid token')
    const unknownPath = path.replace(b.run.id, 'nope')
    const unknown = expectError(await post(s, unknownPath, invalid[i], a.lease_token), 404, 'not_found')
    const unknownValid = expectError(await post(s, unknownPath, { kind: 'k', trigger: 'complete', error: 'e' }, a.lease_token), 404, 'not_found')
    assert.is(unknown.body.error.message, unknownValid.body.error.message)
  }
  // A finished transition is replayed for its own token only.
  const key = { 'idempotency-key': `replay-${b.run.id}` }
  const done = expectStatus(await s.request('POST', `/runs/${b.run.id}/transition`, { trigger: 'complete' }, { ...bearer(b.lease_token), ...key }), 200)
  expectError(await s.request('POST', `/runs/${b.run.id}/transition`, { trigger: 'complete' }, { ...bearer(a.lease_token), ...key }), 401, 'unauthorized')
  const replayed = expectStatus(await s.request('POST', `/runs/${b.run.id}/transition`, { trigger: 'complete' }, { ...bearer(b.lease_token), ...key }), 200)
  assert.equal(replayed.body, done.body)
  expectError(await post(s, `/runs/${b.run.id}/transition`, { trigger: 'complete' }, b.lease_token), 404, 'not_found')
  expectStatus(await post(s, `/runs/${a.run.id}/transition`, { trigger: 'complete' }, a.lease_token), 200)
})

test('events append and page; system kinds are reserved', async ({ s }) => {
  const l = await leased(s)
  for (let i = 0; i < 5; i++) expectStatus(await post(s, `/runs/${l.run.id}/events`, { kind: 'step', data: { i } }, l.lease_token), 201)
  for (const kind of ['transition', 'dead_letter', 'lease_expired', 'claimed']) {
    expectError(await post(s, `/runs/${l.run.id}/events`, { kind }, l.lease_token), 400, 'reserved_event_kind')
  }
  expectError(await post(s, `/runs/${l.run.id}/events`, { kind: '' }, l.lease_token), 400, 'validation_failed')
  expectError(await post(s, `/runs/${l.run.id}/events`, { kind: 'x'.repeat(129) }, l.lease_token), 400, 'validation_failed')
  const seen: number[] = []
  let cursor: string | null = null
  do {
    const page: any = expectStatus(await s.request('GET', `/runs/${l.run.id}/events?limit=2${cursor ? `&cursor=${cursor}` : ''}`), 200).body
    seen.push(...page.items.map((e: { data: { i: number } }) => e.data.i))
    cursor = page.next_cursor
  } while (cursor)
  assert.equal(seen, [0, 1, 2, 3, 4])
  expectError(await s.request('GET', `/runs/${l.run.id}/events?cursor=x`), 400, 'invalid_cursor')
  expectError(await s.request('GET', `/runs/${l.run.id}/events?limit=0`), 400, 'invalid_limit')
})

test('transition checks expected stage and version, writes an event and releases the lease', async ({ s }) => {
  const l = await leased(s)
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'complete', expected_stage: 'other' }, l.lease_token), 409, 'expected_stage_mismatch')
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'complete', expected_task_version: 7 }, l.lease_token), 409, 'task_version_mismatch')
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'nope' }, l.lease_token), 400, 'invalid_transition')
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 5 }, l.lease_token), 400, 'validation_failed')
  const res = expectStatus(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'complete', expected_stage: 'work', expected_task_version: 1, usage: { tokens: 3 } }, l.lease_token), 200)
  assert.equal(res.body, { previous_stage: 'work', new_stage: 'done', trigger: 'complete' })
  const run = expectStatus(await s.request('GET', `/runs/${l.run.id}`), 200).body
  assert.is(run.status, 'completed')
  assert.equal(run.usage, { tokens: 3 })
  const task = expectStatus(await s.request('GET', `/tasks/${l.task.id}`), 200).body
  assert.is(task.task_version, 2)
  assert.is(task.latest_run.status, 'completed')
  const events = expectStatus(await s.request('GET', `/runs/${l.run.id}/events`), 200).body.items
  assert.equal(events.map((e: { kind: string }) => e.kind), ['transition'])
  expectError(await post(s, `/runs/${l.run.id}/transition`, { trigger: 'complete' }, l.lease_token), 404, 'not_found')
})

test('fail schedules a retry after the delay, then dead-letters past max_attempts', async ({ s }) => {
  const l = await leased(s, { retry_policy: { max_attempts: 2, retry_delay_ms: 1_000, dead_letter_stage: 'parked' } })
  expectStatus(await post(s, `/runs/${l.run.id}/fail`, { error: 'boom' }, l.lease_token), 200)
  expectError(await post(s, `/runs/${l.run.id}/fail`, { error: 'again' }, l.lease_token), 404, 'not_found')
  assert.is(await claim(s, l.role), null)
  s.clock.advance(1_000)
  const second = (await claim(s, l.role))!
  assert.is(second.run.attempt, 2)
  expectStatus(await post(s, `/runs/${second.run.id}/fail`, { error: 'boom' }, second.lease_token), 200)
  const task = expectStatus(await s.request('GET', `/tasks/${l.task.id}`), 200).body
  assert.is(task.stage, 'parked')
  assert.is(task.dead_letter_reason, 'max_attempts_exceeded')
  const kinds = expectStatus(await s.request('GET', `/runs/${second.run.id}/events`), 200).body.items.map((e: { kind: string }) => e.kind)
  assert.equal(kinds, ['dead_letter'])
  const run = expectStatus(await s.request('GET', `/runs/${second.run.id}`), 200).body
  assert.is(run.error, 'boom')
  expectError(await post(s, `/runs/${second.run.id}/fail`, {}, second.lease_token), 400, 'validation_failed')
})

test('fail with retry_delay_ms retries after that delay instead of the task\'s', async ({ s }) => {
  const l = await leased(s, { retry_policy: { retry_delay_ms: 60_000 } })
  expectStatus(await post(s, `/runs/${l.run.id}/fail`, { error: 'rate limited', retry_delay_ms: 2_000 }, l.lease_token), 200)
  const events = expectStatus(await s.request('GET', `/runs/${l.run.id}/events`), 200).body.items
  assert.is(events[0].data.retry_delay_ms, 2_000)
  s.clock.advance(1_999)
  assert.is(await claim(s, l.role), null)
  s.clock.advance(1)
  assert.is((await claim(s, l.role))!.run.attempt, 2)
})

test('an expired lease is reaped: run stale, event written, counted as a failed attempt', async ({ s }) => {
  const l = await leased(s, { retry_policy: { max_attempts: 1 } }, { lease_ttl_ms: 1_000 })
  s.clock.advance(1_001)
  assert.is(await s.docket.reaper.tick(), 1)
  const run = expectStatus(await s.request('GET', `/runs/${l.run.id}`), 200).body
  assert.is(run.status, 'stale')
  const kinds = expectStatus(await s.request('GET', `/runs/${l.run.id}/events`), 200).body.items.map((e: { kind: string }) => e.kind)
  assert.equal(kinds, ['lease_expired', 'dead_letter'])
  assert.is(expectStatus(await s.request('GET', `/tasks/${l.task.id}`), 200).body.dead_letter_reason, 'max_attempts_exceeded')
})

test('an expired lease frees its task for the next claim', async ({ s }) => {
  const l = await leased(s, {}, { lease_ttl_ms: 1_000 })
  s.clock.advance(1_000)
  const next = (await claim(s, l.role))!
  assert.is(next.task.id, l.task.id)
  assert.is(next.run.attempt, 2)
})

test('run-state and the runs of a task', async ({ s }) => {
  const l = await leased(s)
  const state = expectStatus(await s.request('GET', `/tasks/${l.task.id}/run-state`), 200).body
  assert.equal(state, { task_id: l.task.id, run_id: l.run.id, attempt: 1, status: 'running', lease_id: l.lease_id, lease_expires_at_ms: l.expires_at_ms })
  expectStatus(await post(s, `/runs/${l.run.id}/fail`, { error: 'x' }, l.lease_token), 200)
  const after = expectStatus(await s.request('GET', `/tasks/${l.task.id}/run-state`), 200).body
  assert.is(after.lease_id, null)
  const runs = expectStatus(await s.request('GET', `/tasks/${l.task.id}/runs`), 200).body
  assert.equal(runs.items.map((r: { id: string }) => r.id), [l.run.id])
  assert.is(runs.next_cursor, null)
  expectError(await s.request('GET', '/tasks/nope/run-state'), 404, 'not_found')
  expectError(await s.request('GET', '/runs/nope'), 404, 'not_found')
})

test('cancel revokes the lease (409 on the next heartbeat); requeue brings a task back', async ({ s }) => {
  const l = await leased(s, { retry_policy: { max_attempts: 1 } })
  const canceled = expectStatus(await s.request('POST', `/tasks/${l.task.id}/cancel`, { reason: 'not needed' }), 200).body
  assert.is(canceled.dead_letter_reason, 'canceled')
  expectStatus(await s.request('POST', `/tasks/${l.task.id}/cancel`), 200)
  expectError(await post(s, `/leases/${l.lease_id}/heartbeat`, undefined, l.lease_token), 409, 'conflict')
  assert.is(await claim(s, l.role), null)
  expectError(await s.request('POST', `/tasks/${l.task.id}/requeue`, { stage: 'nowhere' }), 400, 'validation_failed')
  const requeued = expectStatus(await s.request('POST', `/tasks/${l.task.id}/requeue`), 200).body
  assert.is(requeued.dead_letter_reason, null)
  assert.is(requeued.task_version, 2)
  const again = (await claim(s, l.role))!
  expectStatus(await post(s, `/runs/${again.run.id}/transition`, { trigger: 'complete' }, again.lease_token), 200)
  expectError(await s.request('POST', '/tasks/nope/cancel'), 404, 'not_found')
})

test('a dead-lettered task requeued is claimable again and completes', async ({ s }) => {
  const l = await leased(s, { retry_policy: { max_attempts: 1 } })
  expectStatus(await post(s, `/runs/${l.run.id}/fail`, { error: 'x' }, l.lease_token), 200)
  assert.is(await claim(s, l.role), null)
  expectStatus(await s.request('POST', `/tasks/${l.task.id}/requeue`, { stage: 'work' }), 200)
  const again = (await claim(s, l.role))!
  assert.is(again.task.id, l.task.id)
  expectStatus(await post(s, `/runs/${again.run.id}/transition`, { trigger: 'complete' }, again.lease_token), 200)
})

test.run()
