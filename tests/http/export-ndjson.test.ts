import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { randomBytes } from 'node:crypto'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createPipeline, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { taskBody, walkTasks } from '../helpers/tasks.ts'
import { EXPORT_PAGE } from '../../src/http/ndjson.ts'
import type { Reads } from '../../src/store/driver.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('export ndjson', {} as Ctx)

test.before(async (ctx) => {
  ctx.s = await startServer()
})
test.after(async (ctx) => ctx.s.close())

const NDJSON = { accept: 'application/x-ndjson' }

/** An export's lines, parsed; fails unless it is a whole NDJSON answer. */
async function exportOf(s: TestServer, path: string, headers: Record<string, string> = {}): Promise<Array<Record<string, any>>> {
  const res = await fetch(s.url + path, { headers: { ...NDJSON, ...headers } })
  const text = await res.text()
  assert.is(res.status, 200, text.slice(0, 500))
  assert.is(res.headers.get('content-type'), 'application/x-ndjson')
  if (text === '') return []
  assert.ok(text.endsWith('\n'), 'every line ends with a newline')
  return text.slice(0, -1).split('\n').map((line) => JSON.parse(line))
}

async function createTasks(s: TestServer, pipelineId: string, n: number, fields: (i: number) => Record<string, unknown> = () => ({})): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i += 100) {
    const tasks = Array.from({ length: Math.min(100, n - i) }, (_, k) => taskBody(pipelineId, fields(i + k)))
    ids.push(...expectStatus(await s.request('POST', '/tasks/bulk', { tasks }), 201).body.ids)
  }
  return ids
}

/** The app's reads with `tasks` counted (and maybe failing): the real driver underneath. */
function countTaskReads(s: TestServer, failAt = Infinity): { calls: () => number; restore: () => void } {
  const reads = s.docket.app.driver.reads as Reads
  const original = reads.tasks
  let calls = 0
  reads.tasks = (f) => {
    calls++
    return calls >= failAt ? Promise.reject(new Error('injected read failure')) : original(f)
  }
  return { calls: () => calls, restore: () => { reads.tasks = original } }
}

test('a task export holds every match once, in list order, with the filters of the list', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const n = EXPORT_PAGE * 2 + 17
  const ids = await createTasks(s, pipelineId, n, (i) => ({ title: i % 3 === 0 ? `third ${i}` : `other ${i}` }))
  const all = await exportOf(s, `/tasks?pipeline_id=${pipelineId}`)
  assert.equal(all.map((t) => t.id), ids)
  assert.equal(all[0], (await walkTasks(s, { pipeline_id: pipelineId }, 1))[0], 'lines are the list\'s items')
  const thirds = ids.filter((_, i) => i % 3 === 0)
  assert.equal((await exportOf(s, `/tasks?pipeline_id=${pipelineId}&q=third&order=desc`)).map((t) => t.id), [...thirds].reverse())
  // limit and include_total do not cut or change an export; a cursor starts it.
  assert.is((await exportOf(s, `/tasks?pipeline_id=${pipelineId}&limit=3&include_total=true`)).length, n)
  const page = expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}&limit=10`), 200).body
  assert.equal((await exportOf(s, `/tasks?pipeline_id=${pipelineId}&cursor=${encodeURIComponent(page.next_cursor)}`)).map((t) => t.id), ids.slice(10))
  assert.equal(await exportOf(s, `/tasks?pipeline_id=${pipelineId}&status=canceled`), [])
  // HEAD says what GET would answer, and reads nothing past the first page.
  const reads = countTaskReads(s)
  try {
    const head = await fetch(`${s.url}/tasks?pipeline_id=${pipelineId}`, { method: 'HEAD', headers: NDJSON })
    assert.is(head.status, 200)
    assert.is(head.headers.get('content-type'), 'application/x-ndjson')
    assert.is(await head.text(), '')
    assert.is(reads.calls(), 1)
  } finally {
    reads.restore()
  }
})

test('run events, artifacts and spans export every item', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const taskId = (await createTasks(s, pipelineId, 1))[0]
  const lease = (await claim(s, role))!
  assert.is(lease.task.id, taskId)
  for (let i = 0; i < EXPORT_PAGE + 3; i++) {
    expectStatus(await s.request('POST', `/runs/${lease.lease_id}/events`, { kind: 'progress', data: { i } }, bearer(lease.lease_token)), 201)
  }
  const events = await exportOf(s, `/runs/${lease.lease_id}/events`)
  assert.ok(events.length >= EXPORT_PAGE + 3)
  assert.equal(events.filter((e) => e.kind === 'progress').map((e) => e.data.i), Array.from({ length: EXPORT_PAGE + 3 }, (_, i) => i))
  assert.equal(new Set(events.map((e) => e.id)).size, events.length)

  for (let i = 0; i < EXPORT_PAGE + 2; i++) {
    expectStatus(await s.request('POST', '/artifacts', { task_id: taskId, kind: 'file', uri: `file:///a/${i}` }), 201)
  }
  const artifacts = await exportOf(s, `/artifacts?task_id=${taskId}`)
  assert.equal(artifacts.map((a) => a.uri), Array.from({ length: EXPORT_PAGE + 2 }, (_, i) => `file:///a/${i}`))

  const traceId = randomBytes(16).toString('hex')
  const spans = Array.from({ length: EXPORT_PAGE + 5 }, (_, i) => ({
    traceId, spanId: randomBytes(8).toString('hex'), name: `span ${i}`, kind: 1, startTimeUnixNano: String(1e18 + i), endTimeUnixNano: String(1e18 + i + 1),
  }))
  const otlp = { resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] }
  expectStatus(await s.request('POST', '/v1/traces', otlp, { 'content-type': 'application/json' }), 200)
  const exported = await exportOf(s, `/spans?trace_id=${traceId}`)
  assert.equal(exported.map((x) => x.name), spans.map((x) => x.name))
  assert.ok(exported.every((x) => x.trace_id === traceId))
})

test('errors before the first line are ordinary JSON errors', async ({ s }) => {
  const get = (path: string) => s.request('GET', path, undefined, NDJSON)
  const bad = expectError(await get('/tasks?status=lost'), 400, 'validation_failed')
  assert.ok(bad.headers.get('content-type')?.startsWith('application/json'))
  expectError(await get('/tasks?cursor=x'), 400, 'invalid_cursor')
  expectError(await get(`/runs/${unique('run')}/events`), 404, 'not_found')
  expectError(await get('/spans?trace_id=zz'), 400, 'validation_failed')
  expectError(await get('/artifacts?cursor=1'), 400, 'invalid_cursor')
  // A failing first read is a 500 with the envelope, not a cut stream.
  const reads = countTaskReads(s, 1)
  try {
    expectError(await get('/tasks'), 500, 'internal_error')
  } finally {
    reads.restore()
  }
})

test('a read that fails after the first line aborts the response', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  await createTasks(s, pipelineId, EXPORT_PAGE + 1)
  const reads = countTaskReads(s, 2)
  try {
    const res = await fetch(`${s.url}/tasks?pipeline_id=${pipelineId}`, { headers: NDJSON })
    assert.is(res.status, 200)
    await res.text().then(() => assert.unreachable('the body ended as if whole'), (err: Error) => assert.instance(err, Error))
  } finally {
    reads.restore()
  }
  // The server goes on serving.
  expectStatus(await s.request('GET', `/tasks?pipeline_id=${pipelineId}&limit=1`), 200)
})

/** Starts an export with node:http and returns the response, paused (nothing read past the socket's buffers). */
function pausedExport(s: TestServer, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(s.url + path, { headers: NDJSON }, (res) => {
      res.pause()
      resolve(res)
    })
    req.on('error', reject)
    req.end()
  })
}

const until = async (cond: () => boolean, ms: number) => {
  const end = performance.now() + ms
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 10))
}

test('a slow reader slows the reads: pages are read as the client takes them, and not after it leaves', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const pages = 12
  // ≈ 4 MB a page, so that a few pages fill the socket's buffers.
  const description = 'x'.repeat(8000)
  await createTasks(s, pipelineId, pages * EXPORT_PAGE, () => ({ description }))
  const reads = countTaskReads(s)
  try {
    const res = await pausedExport(s, `/tasks?pipeline_id=${pipelineId}`)
    await until(() => false, 400) // time for an eager producer to run ahead
    const whilePaused = reads.calls()
    assert.ok(whilePaused < pages / 2, `read ${whilePaused} of ${pages} pages while the client read nothing`)
    let lines = 0
    let tail = ''
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      const text = tail + chunk
      const parts = text.split('\n')
      tail = parts.pop()!
      lines += parts.length
    })
    res.resume()
    await new Promise((resolve) => res.on('end', resolve))
    assert.is(lines, pages * EXPORT_PAGE)
    assert.is(reads.calls(), pages) // the last page holds no extra row: nothing more to read

    // A client that goes away mid-export: reading stops.
    const gone = await pausedExport(s, `/tasks?pipeline_id=${pipelineId}`)
    const before = reads.calls()
    gone.destroy()
    await until(() => false, 300)
    assert.ok(reads.calls() - before < pages / 2, `read ${reads.calls() - before} pages for a client that left`)
  } finally {
    reads.restore()
  }
})

test.run()
