// A failure in the middle of a state change leaves nothing half-done. The failure is injected with a
// trigger that aborts the last statement of the change (the event insert), in the real database.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createTask, expectStatus, singleStage } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('atomicity', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const snapshot = (s: TestServer, taskId: string) => ({
  task: s.db.prepare('SELECT * FROM tasks WHERE id = ?').get(taskId),
  runs: s.db.prepare('SELECT * FROM runs WHERE task_id = ?').all(taskId),
  events: s.db.prepare('SELECT count(*) FROM events').pluck().get(),
})

function failNextEvent(s: TestServer, kind: string): () => void {
  s.db.exec(`CREATE TRIGGER inject_failure BEFORE INSERT ON events WHEN new.kind = '${kind}'
    BEGIN SELECT RAISE(ABORT, 'injected failure'); END`)
  return () => s.db.exec('DROP TRIGGER inject_failure')
}

for (const [name, kind, act] of [
  ['transition', 'transition', (s: TestServer, l: any) => s.request('POST', `/runs/${l.run.id}/transition`, { trigger: 'complete' }, bearer(l.lease_token))],
  ['fail', 'retry_scheduled', (s: TestServer, l: any) => s.request('POST', `/runs/${l.run.id}/fail`, { error: 'x' }, bearer(l.lease_token))],
] as const) {
  test(`a ${name} that fails at its last write changes nothing`, async ({ s }) => {
    const { pipelineId, role } = await singleStage(s)
    const taskId = await createTask(s, pipelineId)
    const lease = (await claim(s, role))!
    const before = snapshot(s, taskId)
    const restore = failNextEvent(s, kind)
    try {
      assert.is((await act(s, lease)).status, 500)
    } finally {
      restore()
    }
    assert.equal(snapshot(s, taskId), before)
    expectStatus(await act(s, lease), 200)
  })
}

test('an expiry that fails at its last write changes nothing, and is retried by the next tick', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  await claim(s, role, { lease_ttl_ms: 1_000 })
  s.clock.advance(1_000)
  const before = snapshot(s, taskId)
  const restore = failNextEvent(s, 'lease_expired')
  try {
    await s.docket.reaper.tick().then(() => assert.unreachable('tick should fail'), () => {})
  } finally {
    restore()
  }
  assert.equal(snapshot(s, taskId), before)
  assert.is(await s.docket.reaper.tick(), 1)
})

test.run()
