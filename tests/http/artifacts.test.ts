import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createTask, expectError, expectStatus, singleStage } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('artifacts', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('artifacts are created, filtered by task and run, and paged without gaps', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  const ids: string[] = []
  for (let i = 0; i < 7; i++) {
    const res = await s.request('POST', '/artifacts', { task_id: taskId, run_id: i % 2 ? lease.run.id : null, kind: 'log', uri: `file:///${i}`, size_bytes: i, meta: { i } })
    ids.push(expectStatus(res, 201).body.id)
  }
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: any = expectStatus(await s.request('GET', `/artifacts?task_id=${taskId}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`), 200).body
    seen.push(...page.items.map((a: { id: string }) => a.id))
    cursor = page.next_cursor
  } while (cursor)
  assert.equal(seen, ids)
  const ofRun = expectStatus(await s.request('GET', `/artifacts?run_id=${lease.run.id}`), 200).body.items
  assert.is(ofRun.length, 3)
  assert.equal(ofRun[0].meta, { i: 1 })
})

test('unknown task or run ids are 404; a run of another task is 400', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const other = await createTask(s, pipelineId)
  const lease = (await claim(s, role))!
  expectError(await s.request('POST', '/artifacts', { task_id: 'nope', kind: 'k', uri: 'u' }), 404, 'task_not_found')
  expectError(await s.request('POST', '/artifacts', { run_id: 'nope', kind: 'k', uri: 'u' }), 404, 'run_not_found')
  const wrongTask = lease.task.id === taskId ? other : taskId
  expectError(await s.request('POST', '/artifacts', { task_id: wrongTask, run_id: lease.run.id, kind: 'k', uri: 'u' }), 400, 'validation_failed')
  expectError(await s.request('POST', '/artifacts', { kind: 5, uri: 'u' }), 400, 'validation_failed')
  expectError(await s.request('POST', '/artifacts', { kind: 'k', uri: 'u', size_bytes: -1 }), 400, 'validation_failed')
  expectError(await s.request('GET', '/artifacts?limit=1001'), 400, 'invalid_limit')
  expectError(await s.request('GET', '/artifacts?cursor=nope'), 400, 'invalid_cursor')
})

test.run()
