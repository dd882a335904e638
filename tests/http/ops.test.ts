import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createTask, expectError, expectStatus, singleStage } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('ops and health', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('/ops/queue counts claimable, running, stuck, near-expiry, failed and dead-lettered work per role', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId, { retry_policy: { max_attempts: 1 } })
  s.clock.advance(10)
  await createTask(s, pipelineId)
  await createTask(s, pipelineId)
  const dead = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${dead.run.id}/fail`, { error: 'x' }, bearer(dead.lease_token)), 200)
  await claim(s, role, { lease_ttl_ms: 30_000 })
  s.clock.advance(400_000 - 30_000)
  const stats = expectStatus(await s.request('GET', '/ops/queue?near_expiry_ms=60000&stuck_ms=1000'), 200).body
  const mine = stats.roles.find((r: { role: string }) => r.role === role)
  assert.equal(mine, {
    role, claimable_count: 1, oldest_claimable_age_ms: 370_000, failed_count: 1, stuck_count: 1,
    near_expiry_leases: 0, running_count: 1, dead_letter_count: 1,
  })
  assert.is(stats.generated_at_ms, s.clock.now())
})

test('/ops/queue rejects non-integer and negative parameters', async ({ s }) => {
  expectError(await s.request('GET', '/ops/queue?stuck_ms=abc'), 400, 'validation_failed')
  expectError(await s.request('GET', '/ops/queue?near_expiry_ms=-1'), 400, 'validation_failed')
})

test('/health counts tasks by stage and active leases', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  await createTask(s, pipelineId)
  const before = expectStatus(await s.request('GET', '/health'), 200).body
  await claim(s, role)
  const after = expectStatus(await s.request('GET', '/health'), 200).body
  assert.is(after.active_leases, before.active_leases + 1)
  assert.ok(after.tasks_by_stage.some((x: { stage: string; count: number }) => x.stage === 'work' && x.count >= 1))
})

test.run()
