import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { taskBody, walkTasks } from '../helpers/tasks.ts'

type Ctx = { s: TestServer; pipelineId: string; ids: string[] }
const test = suite<Ctx>('pagination', {} as Ctx)

/** 1,000 tasks in 4 batches, with the clock moving between some: many share a millisecond, so ids break ties. */
test.before(async (ctx) => {
  ctx.s = await startServer()
  ctx.pipelineId = await createPipeline(ctx.s)
  ctx.ids = []
  for (let batch = 0; batch < 4; batch++) {
    if (batch !== 2) ctx.s.clock.advance(1)
    const tasks = Array.from({ length: 250 }, (_, i) => taskBody(ctx.pipelineId, { title: `${batch}-${i}` }))
    ctx.ids.push(...expectStatus(await ctx.s.request('POST', '/tasks/bulk', { tasks }), 201).body.ids)
  }
})
test.after(async (ctx) => ctx.s.close())

for (const limit of [1, 7, 1000]) {
  test(`walking 1,000 tasks with limit ${limit} sees each exactly once, in creation order`, async ({ s, pipelineId, ids }) => {
    const seen = (await walkTasks(s, { pipeline_id: pipelineId }, limit)).map((t) => t.id)
    assert.is(seen.length, 1000)
    assert.is(new Set(seen).size, 1000)
    assert.equal(seen, ids)
  })
}

test('a page that ends exactly at the last task has next_cursor null', async ({ s, pipelineId }) => {
  const first = expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}&limit=500`), 200).body
  assert.is(first.items.length, 500)
  assert.type(first.next_cursor, 'string')
  const second = expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}&limit=500&cursor=${encodeURIComponent(first.next_cursor)}`), 200).body
  assert.is(second.items.length, 500)
  assert.is(second.next_cursor, null)
})

test('the default limit is 50', async ({ s, pipelineId }) => {
  const page = expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}`), 200).body
  assert.is(page.items.length, 50)
})

test('the list answers Task JSON without detail fields', async ({ s, pipelineId }) => {
  const page = expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}&limit=1`), 200).body
  assert.equal(Object.keys(page), ['items', 'next_cursor'])
  assert.ok(!('dependencies' in page.items[0]) && !('available_transitions' in page.items[0]))
  assert.is(page.items[0].stage, 'work')
})

test('stage and pipeline filters combine, and decode %20 and + as spaces', async ({ s, pipelineId }) => {
  const role = unique('role')
  const spaced = await createPipeline(s, {
    initial: 'in review',
    states: { 'in review': { agent_role: role }, 'done & dusted': { terminal: true } },
    transitions: [{ from: 'in review', to: 'done & dusted', trigger: 'ok' }],
  })
  const other = await createPipeline(s, {
    initial: 'in review',
    states: { 'in review': { agent_role: unique('role') }, end: { terminal: true } },
    transitions: [{ from: 'in review', to: 'end', trigger: 'ok' }],
  })
  const mine = expectStatus(await s.request('POST', '/tasks/bulk', { tasks: [taskBody(spaced), taskBody(spaced)] }), 201).body.ids
  const theirs = expectStatus(await s.request('POST', '/tasks/bulk', { tasks: [taskBody(other)] }), 201).body.ids
  const both = (await walkTasks(s, { stage: 'in review' }, 1)).map((t) => t.id)
  assert.equal(both, [...mine, ...theirs])
  for (const stage of ['in%20review', 'in+review']) {
    const page = expectStatus(await s.request('GET', `/tasks?stage=${stage}&pipeline_id=${spaced}`), 200).body
    assert.equal(page.items.map((t: { id: string }) => t.id), mine)
  }
  const work = await walkTasks(s, { stage: 'work', pipeline_id: pipelineId }, 1000)
  assert.is(work.length, 1000)
  assert.equal(expectStatus(await s.request('GET', '/tasks?stage=done+%26+dusted'), 200).body, { items: [], next_cursor: null })
  assert.equal(expectStatus(await s.request('GET', '/tasks?pipeline_id=nope'), 200).body, { items: [], next_cursor: null })
})

test('a limit that is not an integer in 1..1000 is 400 invalid_limit', async ({ s }) => {
  for (const limit of ['0', '1001', '-1', 'abc', '5.5', '', '1e2', '+5', '0x10', '99999999999999999999']) {
    const res = expectError(await s.request('GET', `/tasks?limit=${encodeURIComponent(limit)}`), 400, 'invalid_limit')
    assert.is(res.body.error.details[0].path, 'query.limit')
  }
})

test('a cursor this list could not have returned is 400 invalid_cursor', async ({ s }) => {
  for (const cursor of ['abc', ':x', '5:', 'x:y', '', '1.5:x', '12345678901234567890:x']) {
    expectError(await s.request('GET', `/tasks?cursor=${encodeURIComponent(cursor)}`), 400, 'invalid_cursor')
  }
})

test('a well-formed cursor past the end answers an empty page', async ({ s }) => {
  assert.equal(expectStatus(await s.request('GET', '/tasks?cursor=9999999999999:zzz'), 200).body, { items: [], next_cursor: null })
})

test('bad percent-encoding in a query value is 400', async ({ s }) => {
  expectError(await s.request('GET', '/tasks?stage=%E0%A4%A'), 400, 'validation_failed')
  expectError(await s.request('GET', '/tasks?cursor=%zz'), 400, 'validation_failed')
})

test.run()
