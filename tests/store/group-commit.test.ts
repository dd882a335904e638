// Group commit: concurrent changes share one transaction, each in its own savepoint. Only the work of
// the 2xx answers may be in the database, and a failed COMMIT fails every change of its batch.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createTask, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('group commit', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('a batch mixing good and failing requests keeps exactly the work of the 2xx answers', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  for (let i = 0; i < 12; i++) await createTask(s, pipelineId)
  const leases = await Promise.all(Array.from({ length: 12 }, () => claim(s, role)))
  const requests = leases.flatMap((l, i) => {
    const path = `/runs/${l!.run.id}/transition`
    if (i % 4 === 0) return [s.request('POST', path, { trigger: 'complete' }, bearer('f'.repeat(64)))] // wrong token
    if (i % 4 === 1) return [s.request('POST', path, { trigger: 'nope' }, bearer(l!.lease_token))] // bad trigger
    if (i % 4 === 2) {
      // the same transition twice in one batch: exactly one can win
      return [0, 1].map(() => s.request('POST', path, { trigger: 'complete' }, bearer(l!.lease_token)))
    }
    return [s.request('POST', path, { trigger: 'complete' }, bearer(l!.lease_token))]
  })
  const answers = await Promise.all(requests)
  const ok = answers.filter((r) => r.status === 200).length
  assert.is(ok, 6)
  assert.ok(answers.every((r) => [200, 400, 401, 404].includes(r.status)), answers.map((r) => r.status).join())
  const done = s.db.prepare("SELECT count(*) FROM tasks WHERE pipeline_id = ? AND stage = 'done'").pluck().get(pipelineId)
  const completedRuns = s.db.prepare("SELECT count(*) FROM runs r JOIN tasks t ON t.id = r.task_id WHERE t.pipeline_id = ? AND r.status = 'completed'").pluck().get(pipelineId)
  const transitionEvents = s.db.prepare("SELECT count(*) FROM events e JOIN runs r ON r.id = e.run_id JOIN tasks t ON t.id = r.task_id WHERE t.pipeline_id = ? AND e.kind = 'transition'").pluck().get(pipelineId)
  assert.equal([done, completedRuns, transitionEvents], [6, 6, 6])
})

test('a COMMIT that fails answers 500 to every request of the batch and keeps none of it', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  // A deferred foreign key is checked at COMMIT: one poisoned request makes the shared COMMIT fail.
  s.db.exec(`CREATE TABLE poison (ref TEXT REFERENCES tasks (id) DEFERRABLE INITIALLY DEFERRED);
    CREATE TRIGGER poison_on_title AFTER INSERT ON tasks WHEN new.title = 'poison'
    BEGIN INSERT INTO poison VALUES ('no such task'); END`)
  try {
    const titles = ['a', 'b', 'poison', 'c', 'd']
    const answers = await Promise.all(titles.map((title) => s.request('POST', '/tasks', { pipeline_id: pipelineId, title, description: unique('d') })))
    // Requests that reached the server in one event-loop turn share the poisoned batch (usually all of them).
    assert.is(answers[2].status, 500)
    assert.ok(answers.every((r) => r.status === 500 || r.status === 201))
    const kept = s.db.prepare('SELECT title FROM tasks WHERE pipeline_id = ? ORDER BY title').pluck().all(pipelineId)
    assert.equal(kept, titles.filter((_, i) => answers[i].status === 201).sort())
  } finally {
    s.db.exec('DROP TRIGGER poison_on_title; DROP TABLE poison')
  }
  expectStatus(await s.request('POST', '/tasks', { pipeline_id: pipelineId, title: 'after', description: '' }), 201)
})

test('a read never answers with writes that are not committed yet', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const [created, listed] = await Promise.all([
    createTask(s, pipelineId),
    s.request('GET', `/tasks?pipeline_id=${pipelineId}`),
  ])
  const committed = s.db.prepare('SELECT count(*) FROM tasks WHERE id = ?').pluck().get(created)
  assert.is(committed, 1)
  assert.ok(listed.body.items.length <= 1)
})

test.run()
