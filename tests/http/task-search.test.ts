import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createPipeline, createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { walkTasks } from '../helpers/tasks.ts'
import * as v from 'valibot'
import { TASK_STATUS, taskStatusOf } from '../../src/domain/task-status.ts'
import { compilePipeline, DefinitionSchema } from '../../src/domain/pipeline.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('task search', {} as Ctx)

test.before(async (ctx) => {
  ctx.s = await startServer()
})
test.after(async (ctx) => ctx.s.close())

const ids = (page: { items: Array<{ id: string }> }) => page.items.map((t) => t.id)
async function list(s: TestServer, query: Record<string, string>) {
  return expectStatus(await s.request('GET', `/tasks?${new URLSearchParams(query)}`), 200).body
}

test('q finds tasks by words of the title, the description and the metadata strings and numbers', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const word = unique('zq').replaceAll('-', 'x')
  const byTitle = await createTask(s, pipelineId, { title: `Deploy ${word} to staging` })
  const byDescription = await createTask(s, pipelineId, { description: `The ${word} service needs a café` })
  const byMetadata = await createTask(s, pipelineId, { metadata: { owner: { team: word }, tags: ['x', 'y'], build: 73105 } })
  await createTask(s, pipelineId, { title: 'unrelated', metadata: { note: 'nothing here' } })
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: word })), [byTitle, byDescription, byMetadata])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: '73105' })), [byMetadata])
  // Accents fold as in the store search; keys of the metadata are not words of it.
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'CAFE' })), [byDescription])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'owner' })), [])
})

test('every term must match, each as a literal phrase; operators are plain text', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const a = await createTask(s, pipelineId, { title: 'rotate the signing keys', description: 'quarterly OR yearly' })
  const b = await createTask(s, pipelineId, { title: 'keys signing rotate' })
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'rotate keys' })), [a, b])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'signing-keys' })), [a])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'rotate missingword' })), [])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'quarterly OR' })), [a])
  for (const q of ['NEAR(a b)', 'key*', '"unbalanced', 'title:rotate', '(', '-']) {
    expectStatus(await s.request('GET', `/tasks?${new URLSearchParams({ pipeline_id: pipelineId, q })}`), 200)
  }
  // A query without a word (punctuation only) matches nothing, as in the store search.
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: '- " *' })), [])
})

test('the index follows updates of the text and deletes, whatever path makes them', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const id = await createTask(s, pipelineId, { title: 'before words', metadata: { tag: 'oldtag' } })
  await s.sql('UPDATE tasks SET title = ?, metadata_json = ? WHERE id = ?', 'after words', '{"tag":"newtag"}', id)
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'before' })), [])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'after words' })), [id])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'oldtag' })), [])
  assert.equal((await list(s, { pipeline_id: pipelineId, q: 'newtag', include_total: 'true' })).total, 1)
  // An update of other columns (a claim, a move) changes nothing of it.
  await s.sql('UPDATE tasks SET priority = 5 WHERE id = ?', id)
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'after' })), [id])
  if (s.driver === 'postgres') {
    // The searches met a stale vector (the text changed by a path that wrote none): it is written in the background.
    const fresh = async () => (await s.sql('SELECT count(*)::int AS n FROM task_search WHERE task_id = ? AND search IS NOT NULL', id))[0].n === 1
    const end = performance.now() + 5000
    while (!(await fresh()) && performance.now() < end) await new Promise((r) => setTimeout(r, 20))
    assert.ok(await fresh(), 'the stale vector was rewritten')
    assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'after words newtag' })), [id])
    assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'before' })), [])
  }
  await s.sql('DELETE FROM tasks WHERE id = ?', id)
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'after' })), [])
  // A task inserted by another path than the API's create (the copy from SQLite to PostgreSQL, say).
  const inserted = unique('inserted')
  await s.sql(`INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version,
    next_eligible_at_ms, retry_delay_ms, created_at_ms, updated_at_ms) VALUES (?, ?, 'work', 'copied over', 'from elsewhere', 0, '{"k":"carried"}', 1, 0, 0, 1, 1)`,
    inserted, pipelineId)
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, q: 'copied carried' })), [inserted])
})

/** One task in each status, in one pipeline; returns their ids by status. */
async function oneOfEach(s: TestServer): Promise<{ pipelineId: string; byStatus: Record<string, string> }> {
  const { pipelineId, role } = await singleStage(s)
  const now = s.clock.now()
  const leased = await createTask(s, pipelineId, { title: 'leased', priority: 100 })
  const lease = (await claim(s, role))!
  assert.is(lease.task.id, leased)
  const done = await createTask(s, pipelineId, { title: 'done', priority: 100 })
  const doneLease = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${doneLease.lease_id}/transition`, { trigger: 'complete' }, bearer(doneLease.lease_token)), 200)
  const dead = await createTask(s, pipelineId, { title: 'dead', priority: 100, retry_policy: { max_attempts: 1 } })
  const deadLease = (await claim(s, role))!
  assert.is(deadLease.task.id, dead)
  expectStatus(await s.request('POST', `/runs/${deadLease.lease_id}/fail`, { error: 'boom' }, bearer(deadLease.lease_token)), 200)
  const canceled = await createTask(s, pipelineId, { title: 'canceled' })
  expectStatus(await s.request('POST', `/tasks/${canceled}/cancel`, {}), 200)
  const delayed = await createTask(s, pipelineId, { title: 'delayed', not_before_ms: now + 60_000 })
  const claimable = await createTask(s, pipelineId, { title: 'claimable' })
  const blocked = await createTask(s, pipelineId, { title: 'blocked', dependencies: [claimable] })
  return { pipelineId, byStatus: { leased, done, dead_lettered: dead, canceled, delayed, claimable, blocked } }
}

test('status filters each task by the rule of domain/task-status.ts', async ({ s }) => {
  const { pipelineId, byStatus } = await oneOfEach(s)
  for (const status of TASK_STATUS) {
    const page = await list(s, { pipeline_id: pipelineId, status, include_total: 'true' })
    assert.equal(ids(page), [byStatus[status]], status)
    assert.is(page.total, 1, status)
  }
  // Without a pipeline: the same tasks are among those of that status.
  for (const status of TASK_STATUS) {
    const all = (await walkTasks(s, { status }, 1000)).map((t) => t.id)
    assert.ok(all.includes(byStatus[status]), status)
    for (const [other, id] of Object.entries(byStatus)) if (other !== status) assert.not.ok(all.includes(id), `${other} in ${status}`)
  }
  // The SQL of each driver agrees with the rule itself, row by row.
  const definition = expectStatus(await s.request('GET', `/pipelines/${pipelineId}`), 200).body.definition
  const pipeline = compilePipeline(v.parse(DefinitionSchema, definition))
  const rows = await s.sql('SELECT id, stage, dead_letter_reason, active_run_id, open_dependencies, next_eligible_at_ms FROM tasks WHERE pipeline_id = ?', pipelineId)
  for (const row of rows) {
    const status = taskStatusOf(row as never, pipeline.stages.get(row.stage)!, s.clock.now())
    assert.is(byStatus[status], row.id, status)
  }
  // Time moves a delayed task to claimable.
  s.clock.advance(60_000)
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, status: 'delayed' })), [])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, status: 'claimable' })), [byStatus.claimable, byStatus.delayed].sort())
})

test('a task in a stage no agent role claims from is blocked, not claimable', async ({ s }) => {
  const role = unique('role')
  const pipelineId = await createPipeline(s, {
    initial: 'hold',
    states: { hold: {}, work: { agent_role: role }, done: { terminal: true } },
    transitions: [{ from: 'hold', to: 'work', trigger: 'release' }, { from: 'work', to: 'done', trigger: 'complete' }],
  })
  const held = await createTask(s, pipelineId)
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, status: 'blocked' })), [held])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, status: 'claimable' })), [])
  assert.is(await claim(s, role), null)
})

test('assignee and created bounds filter; bounds are exclusive', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const agent = unique('agent')
  s.clock.advance(10)
  const t0 = s.clock.now()
  const first = await createTask(s, pipelineId, { assigned_agent_id: agent })
  s.clock.advance(10)
  const second = await createTask(s, pipelineId)
  s.clock.advance(10)
  const third = await createTask(s, pipelineId, { assigned_agent_id: agent })
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, assignee: agent })), [first, third])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, created_after_ms: String(t0) })), [second, third])
  assert.equal(ids(await list(s, { pipeline_id: pipelineId, created_after_ms: String(t0 - 1), created_before_ms: String(t0 + 20) })), [first, second])
  assert.equal(ids(await list(s, { assignee: agent, created_before_ms: String(t0 + 1) })), [first])
})

test('order=desc pages newest first; filtered pages see each match once, with the total', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const all: string[] = []
  for (let i = 0; i < 25; i++) {
    if (i % 4 === 0) s.clock.advance(1) // several share a millisecond: the id breaks the tie
    all.push(await createTask(s, pipelineId, { title: i % 2 === 0 ? `even page item ${i}` : `odd page item ${i}` }))
  }
  const even = all.filter((_, i) => i % 2 === 0)
  for (const limit of [1, 4, 13]) {
    assert.equal((await walkTasks(s, { pipeline_id: pipelineId, q: 'even item' }, limit)).map((t) => t.id), even)
    assert.equal((await walkTasks(s, { pipeline_id: pipelineId, q: 'even item', order: 'desc' }, limit)).map((t) => t.id), [...even].reverse())
    assert.equal((await walkTasks(s, { pipeline_id: pipelineId, order: 'desc', status: 'claimable' }, limit)).map((t) => t.id), [...all].reverse())
  }
  const page = await list(s, { pipeline_id: pipelineId, q: 'even', limit: '5', include_total: 'true' })
  assert.is(page.items.length, 5)
  assert.is(page.total, 13)
  assert.is((await list(s, { pipeline_id: pipelineId, include_total: 'true' })).total, 25)
  assert.is((await list(s, { pipeline_id: pipelineId })).total, undefined)
})

test('bad filters are 400 with a detail for each', async ({ s }) => {
  const bad = async (query: string, paths: string[]) => {
    const res = expectError(await s.request('GET', `/tasks?${query}`), 400, 'validation_failed')
    assert.equal(res.body.error.details.map((d: { path: string }) => d.path), paths, query)
  }
  await bad('status=stuck', ['query.status'])
  await bad('order=up', ['query.order'])
  await bad('q=%20%20', ['query.q'])
  await bad(`q=${'x'.repeat(5000)}`, ['query.q'])
  await bad('created_after_ms=yesterday&created_before_ms=-1', ['query.created_after_ms', 'query.created_before_ms'])
  await bad('include_total=yes', ['query.include_total'])
  await bad('status=Claimable&order=ASC', ['query.status', 'query.order'])
  expectError(await s.request('GET', '/tasks?cursor=nope'), 400, 'invalid_cursor')
})

test.run()
