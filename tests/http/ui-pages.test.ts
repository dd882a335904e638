import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, createPipeline, createTask, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { consoleClient, textOf, type ConsoleClient } from '../helpers/ui.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('ui pages', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

/** A pipeline holding one task of each kind: claimable, delayed, blocked, leased, dead-lettered, done. */
async function workload(s: TestServer) {
  const { pipelineId, role } = await singleStage(s)
  const name = (await s.request('GET', `/pipelines/${pipelineId}`)).body.name as string
  const now = s.clock.now()
  const dead = await createTask(s, pipelineId, { title: 'doomed', retry_policy: { max_attempts: 1 } })
  const failing = (await claim(s, role, { lease_ttl_ms: 30_000 }))!
  expectStatus(await s.request('POST', `/runs/${failing.run.id}/fail`, { error: 'disk on fire' }, { authorization: `Bearer ${failing.lease_token}` }), 200)
  const finished = await createTask(s, pipelineId, { title: 'finished' })
  const finishing = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${finishing.run.id}/transition`, { trigger: 'complete' }, { authorization: `Bearer ${finishing.lease_token}` }), 200)
  const leased = await createTask(s, pipelineId, { title: 'held' })
  const lease = (await claim(s, role, { lease_ttl_ms: 30_000 }))!
  assert.is(lease.task.id, leased)
  const claimable = await createTask(s, pipelineId, { title: 'waiting' })
  const delayed = await createTask(s, pipelineId, { title: 'later', not_before_ms: now + 3_600_000 })
  const blocked = await createTask(s, pipelineId, { title: 'blocked one', dependencies: [claimable] })
  assert.is(failing.task.id, dead)
  assert.is(finishing.task.id, finished)
  return { pipelineId, name, role, dead, finished, leased, claimable, delayed, blocked }
}

async function opened(s: TestServer): Promise<ConsoleClient> {
  const c = consoleClient(s)
  // A page with forms, so the client holds the CSRF token.
  assert.is((await c.get('/ui/tasks')).status, 200)
  return c
}

test('the overview counts each kind of task per stage and shows throughput and leases near expiry', async ({ s }) => {
  const w = await workload(s)
  s.clock.advance(5_000)
  const c = await opened(s)
  const page = await c.get('/ui/')
  assert.is(page.status, 200)
  const row = textOf(/<tr>\s*<td>[^<]*<\/td>[\s\S]*?<\/tr>/g.exec(page.text.slice(page.text.indexOf(`<td>${w.name}</td>`) - 5))![0]).trim()
  // claimable, delayed, blocked, leased, dead-lettered, oldest claimable age
  assert.is(row, `${w.name} work 1 1 1 1 1 5.0 s`)
  assert.match(textOf(page.text), 'Last hour: 1 runs completed, 1 failed')
  assert.match(page.text, `href="/ui/tasks/${w.leased}"`)
})

test('the task list filters by pipeline, shows each status, and pages with a cursor', async ({ s }) => {
  const w = await workload(s)
  const c = await opened(s)
  const page = await c.get(`/ui/tasks?pipeline=${w.pipelineId}`)
  assert.is(page.status, 200)
  const text = textOf(page.text)
  for (const [title, status] of [['doomed', 'dead_lettered'], ['finished', 'done'], ['held', 'leased'], ['waiting', 'claimable'], ['later', 'delayed'], ['blocked one', 'blocked']]) {
    assert.match(text, new RegExp(`${title} [0-9a-f-]{36} ${w.name} \\w+ ${status} `), title)
  }
  const more = await createTask(s, w.pipelineId, { title: 'extra' })
  for (let i = 0; i < 50; i++) await createTask(s, w.pipelineId, { title: `filler ${i}` })
  const first = await c.get(`/ui/tasks?pipeline=${w.pipelineId}`)
  const next = /href="(\/ui\/tasks\?[^"]*cursor=[^"]*)" rel="next"/.exec(first.text)![1].replaceAll('&amp;', '&')
  const second = await c.get(next)
  assert.match(second.text, 'filler 49')
  assert.not.match(second.text, `/ui/tasks/${more}"`)
  assert.not.match(textOf((await c.get(`/ui/tasks?stage=${unique('nostage')}`)).text), 'doomed')
})

test('a task page shows fields, dependencies both ways, runs and the time-ordered timeline', async ({ s }) => {
  const w = await workload(s)
  const run = (await s.request('GET', `/tasks/${w.dead}/runs`)).body.items[0]
  s.clock.advance(1000)
  expectStatus(await s.request('POST', '/artifacts', { task_id: w.dead, run_id: run.id, kind: 'report', uri: 'file:///tmp/report.md' }), 201)
  const c = await opened(s)
  const dead = textOf((await c.get(`/ui/tasks/${w.dead}`)).text)
  assert.match(dead, 'dead_lettered (max_attempts_exceeded)')
  assert.match(dead, /Runs .* 1 \S+ \(\S+\) failed \S+ 0 ms disk on fire/)
  assert.match(dead, /Timeline .* 1 event dead_letter \{"reason":"max_attempts_exceeded".* 1 artifact report file:\/\/\/tmp\/report.md/)
  const upstream = await c.get(`/ui/tasks/${w.claimable}`)
  assert.match(upstream.text, `href="/ui/tasks/${w.blocked}"`)
  const downstream = await c.get(`/ui/tasks/${w.blocked}`)
  assert.match(downstream.text, `href="/ui/tasks/${w.claimable}"`)
  assert.is((await c.get('/ui/tasks/no-such-task')).status, 404)
})

test('values are escaped: a task title with markup is shown as text', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const id = await createTask(s, pipelineId, { title: '<script>alert("x")</script>', description: '<img src=x onerror=alert(1)>' })
  const c = await opened(s)
  for (const path of [`/ui/tasks/${id}`, `/ui/tasks?pipeline=${pipelineId}`]) {
    const page = await c.get(path)
    assert.not.match(page.text, '<script>alert')
    assert.not.match(page.text, '<img src=x')
    assert.match(page.text, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;')
  }
})

test('dead letters list the reason and last error; requeue to another stage and cancel work', async ({ s }) => {
  const w = await workload(s)
  const c = await opened(s)
  const page = await c.get('/ui/dead-letters')
  assert.match(textOf(page.text), /doomed .* max_attempts_exceeded after 1 attempt\(s\) disk on fire/)
  const res = await c.post(`/ui/tasks/${w.dead}/requeue`, { stage: 'work', return: '/ui/dead-letters?done=1' })
  assert.is(res.status, 303)
  assert.is(res.headers.get('location'), '/ui/dead-letters?done=1')
  const task = (await s.request('GET', `/tasks/${w.dead}`)).body
  assert.is(task.dead_letter_reason, null)
  assert.is(task.stage, 'work')
  assert.not.match((await c.get('/ui/dead-letters')).text, `/ui/tasks/${w.dead}"`)
  assert.is((await c.post(`/ui/tasks/${w.dead}/requeue`, { stage: 'nowhere' })).status, 400)
  assert.is((await c.post(`/ui/tasks/${w.claimable}/cancel`, { reason: 'not needed' })).status, 303)
  assert.is((await s.request('GET', `/tasks/${w.claimable}`)).body.dead_letter_reason, 'canceled')
})

test('the task list filters by status, text, assignee, creation time and order, as GET /tasks does', async ({ s }) => {
  const w = await workload(s)
  const c = await opened(s)
  const ids = (text: string) => [...text.matchAll(/name="id" value="([^"]+)"/g)].map((m) => m[1])
  const p = `pipeline=${w.pipelineId}`
  assert.equal(ids((await c.get(`/ui/tasks?${p}&status=dead_lettered`)).text), [w.dead])
  const api = (query: string) => s.request('GET', `/tasks?pipeline_id=${w.pipelineId}&${query}`).then((r) => expectStatus(r, 200).body.items.map((t: any) => t.id))
  assert.equal(ids((await c.get(`/ui/tasks?${p}&q=doomed`)).text), await api('q=doomed'))
  assert.equal(ids((await c.get(`/ui/tasks?${p}&order=newest`)).text), await api('order=desc&limit=50'))
  assert.equal(ids((await c.get(`/ui/tasks?${p}&created_after=2999-01-01T00:00`)).text), [])
  assert.is((await c.get('/ui/tasks?status=sleeping')).status, 400)
})

test('a human gate: the overview counts what waits there, and a task leaves it by a button on its page', async ({ s }) => {
  const pipelineId = await createPipeline(s, {
    initial: 'approval',
    states: { approval: { gate: true }, work: { agent_role: unique('role') }, done: { terminal: true } },
    transitions: [
      { from: 'approval', to: 'work', trigger: 'approve' }, { from: 'approval', to: 'done', trigger: 'reject' },
      { from: 'work', to: 'done', trigger: 'complete' },
    ],
  })
  const id = await createTask(s, pipelineId, { title: 'needs a person' })
  const c = await opened(s)
  const overview = textOf((await c.get('/ui/')).text)
  assert.match(overview, /Human gates .*approval 1/)
  const page = await c.get(`/ui/tasks/${id}`)
  assert.match(page.text, 'value="approve">approve → work</button>')
  assert.match(page.text, 'value="reject">reject → done</button>')
  const res = await c.post(`/ui/tasks/${id}/signal`, { trigger: 'approve', note: 'looks right', stage: 'approval' })
  assert.is(res.status, 303)
  assert.is((await s.request('GET', `/tasks/${id}`)).body.stage, 'work')
  const events = expectStatus(await s.request('GET', `/tasks/${id}/events`), 200).body.items
  assert.equal(events.map((e: any) => [e.kind, e.data.data]), [['signaled', { note: 'looks right' }]])
  assert.not.match((await c.get(`/ui/tasks/${id}`)).text, 'Human gate</h2>')
  assert.is((await c.post(`/ui/tasks/${id}/signal`, { trigger: 'approve' })).status, 409)
})

test('the priority of a task is changed from its page, and claims follow it', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const first = await createTask(s, pipelineId, { title: 'first' })
  const second = await createTask(s, pipelineId, { title: 'second' })
  const c = await opened(s)
  assert.match((await c.get(`/ui/tasks/${second}`)).text, 'name="priority"')
  const res = await c.post(`/ui/tasks/${second}/priority`, { priority: '9' })
  assert.is(res.status, 303)
  assert.match(res.headers.get('location')!, 'done=reprioritized')
  const task = (await s.request('GET', `/tasks/${second}`)).body
  assert.is(task.priority, 9)
  assert.is(task.task_version, 2)
  assert.is((await claim(s, role))!.task.id, second)
  assert.is((await c.post(`/ui/tasks/${first}/priority`, { priority: 'high' })).status, 400)
})

test('a bulk action shows the count first, then changes every matching task', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const ids = []
  for (let i = 0; i < 7; i++) ids.push(await createTask(s, pipelineId, { title: `bulk ${i}` }))
  const c = await opened(s)
  const ask = await c.post('/ui/tasks/bulk', { do: 'cancel-matching', pipeline: pipelineId })
  assert.is(ask.status, 200)
  assert.match(textOf(ask.text), 'Cancel 7 task(s) matching the filter?')
  for (const id of ids) assert.is((await s.request('GET', `/tasks/${id}`)).body.dead_letter_reason, null, 'nothing before confirming')
  const done = await c.post('/ui/tasks/bulk', { do: 'cancel-matching', pipeline: pipelineId, confirm: 'yes' })
  assert.is(done.status, 303)
  assert.match(done.headers.get('location')!, 'done=7')
  for (const id of ids) assert.is((await s.request('GET', `/tasks/${id}`)).body.dead_letter_reason, 'canceled')
  const selected = await c.post('/ui/tasks/bulk', { do: 'requeue-selected', id: ids.slice(0, 2), confirm: 'yes' })
  assert.match(selected.headers.get('location')!, 'done=2')
  assert.is((await s.request('GET', `/tasks/${ids[0]}`)).body.dead_letter_reason, null)
  assert.is((await s.request('GET', `/tasks/${ids[2]}`)).body.dead_letter_reason, 'canceled')
})

test('pipelines are drawn with their stages and transitions, and pause and resume', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const c = await opened(s)
  const page = await c.get('/ui/pipelines')
  assert.match(page.text, '<svg')
  assert.match(textOf(page.text), /work ▸ role-\S+ .*done terminal/)
  assert.match(page.text, 'on complete</title>')
  assert.is((await c.post(`/ui/pipelines/${pipelineId}/pause`, {})).status, 303)
  assert.is((await s.request('GET', `/pipelines/${pipelineId}`)).body.paused, true)
  assert.is((await c.post(`/ui/pipelines/${pipelineId}/resume`, {})).status, 303)
  assert.is((await s.request('GET', `/pipelines/${pipelineId}`)).body.paused, false)
})

test('the store page lists namespaces and entries and searches with highlighted snippets', async ({ s }) => {
  const ns = unique('notes')
  expectStatus(await s.request('PUT', `/store/${ns}/first`, { value: { text: 'the quick brown fox' } }), 204)
  expectStatus(await s.request('PUT', `/store/${ns}/second`, { value: { text: 'lazy dog' } }), 204)
  const c = await opened(s)
  assert.match((await c.get('/ui/store')).text, `>${ns}</a>`)
  const entries = textOf((await c.get(`/ui/store?ns=${ns}`)).text)
  assert.match(entries, /first \{"text":"the quick brown fox"\}/)
  const hits = await c.get(`/ui/store?ns=${ns}&q=brown`)
  assert.match(hits.text, '<mark>brown</mark>')
  assert.not.match(hits.text, 'lazy dog')
})

test('without a token the console is open, and a form still needs its session and CSRF token', async ({ s }) => {
  const c = consoleClient(s)
  const page = await c.get('/ui/tasks')
  assert.is(page.status, 200)
  assert.ok(c.cookie !== null)
  assert.is((await c.get('/ui/login')).status, 303)
  const { pipelineId } = await singleStage(s)
  const stranger = consoleClient(s)
  assert.is((await stranger.post(`/ui/pipelines/${pipelineId}/pause`, { _csrf: c.csrf! })).status, 403)
  assert.is((await c.post(`/ui/pipelines/${pipelineId}/pause`, {}, { origin: 'http://localhost:1' })).status, 403)
})

test('assets are served under versioned URLs', async ({ s }) => {
  const c = await opened(s)
  const page = await c.get('/ui/')
  const srcs = [...page.text.matchAll(/(?:src|href)="(\/ui\/assets\/[^"]+)"/g)].map((m) => m[1])
  assert.ok(srcs.some((p) => /^\/ui\/assets\/htmx-\d+\.\d+\.\d+\.js$/.test(p)), srcs.join())
  for (const path of srcs) {
    const res = await fetch(s.url + path)
    assert.is(res.status, 200, path)
    assert.match(res.headers.get('cache-control')!, 'immutable')
    assert.ok((await res.text()).length > 100)
  }
  assert.is((await c.get('/ui/nothing-here')).status, 404)
  assert.is((await c.get('/ui/tasks/%E0%A4%A')).status, 404)
})

test.run()
