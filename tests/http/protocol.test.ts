import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import http from 'node:http'
import { Pool } from 'undici'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus } from '../helpers/fixtures.ts'
import { rawRequest, stalledConnection } from '../helpers/raw.ts'
import { ROUTES } from '../../src/app.ts'

const LIMIT = 4096
type Ctx = { s: TestServer; pipelineId: string; taskId: string }
const test = suite<Ctx>('protocol', {} as Ctx)
test.before(async (ctx) => {
  ctx.s = await startServer({ maxBodyBytes: LIMIT })
  ctx.pipelineId = await createPipeline(ctx.s)
  ctx.taskId = await createTask(ctx.s, ctx.pipelineId)
})
test.after(async (ctx) => ctx.s.close())

const JSON_TYPE = 'application/json; charset=utf-8'
const fill = (path: string, value: string) => path.replace(/:\w+/g, value)

/** A 4xx with a valid error envelope, whatever the route. */
function expectClientError(res: { status: number; text: string }, what: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: ${res.status} ${res.text}`)
  const body = JSON.parse(res.text)
  assert.type(body.error.code, 'string', what)
  assert.type(body.error.message, 'string', what)
}

test('a declared Content-Length over the limit is 413 payload_too_large and the server keeps serving', async ({ s }) => {
  const res = await rawRequest(s.url, 'POST', '/tasks', { headers: { 'content-length': String(LIMIT + 1), 'content-type': 'application/json' }, chunks: ['x'.repeat(LIMIT + 1)] })
  assert.is(res.status, 413)
  assert.is(res.body.error.code, 'payload_too_large')
  assert.is(res.headers['content-type'], JSON_TYPE)
  expectStatus(await s.request('GET', '/health'), 200)
})

test('a chunked body over the limit is 413 payload_too_large', async ({ s }) => {
  for (const total of [LIMIT + 1, LIMIT * 5]) {
    const chunks = Array.from({ length: Math.ceil(total / 512) }, () => 'y'.repeat(512))
    const res = await rawRequest(s.url, 'POST', '/tasks', { headers: { 'transfer-encoding': 'chunked' }, chunks })
    assert.is(res.status, 413, `${total} bytes: ${res.text}`)
    assert.is(res.body.error.code, 'payload_too_large')
  }
  expectStatus(await s.request('GET', '/health'), 200)
})

test('a chunked body within the limit is read whole', async ({ s, pipelineId }) => {
  const body = JSON.stringify({ pipeline_id: pipelineId, title: 'chunked', description: 'd'.repeat(3000) })
  const chunks = body.match(/.{1,100}/gs)!
  const res = await rawRequest(s.url, 'POST', '/tasks', { headers: { 'transfer-encoding': 'chunked' }, chunks })
  assert.is(res.status, 201, res.text)
})

test('a body of exactly the limit is accepted', async ({ s, pipelineId }) => {
  const base = JSON.stringify({ pipeline_id: pipelineId, title: 't', description: '' })
  const body = base.replace('"description":""', `"description":"${'d'.repeat(LIMIT - base.length)}"`)
  assert.is(Buffer.byteLength(body), LIMIT)
  expectStatus(await s.request('POST', '/tasks', body), 201)
  expectError(await s.request('POST', '/tasks', body + ' '), 413, 'payload_too_large')
})

test('a known path with a wrong method is 405 method_not_allowed with Allow', async ({ s, taskId }) => {
  const cases: Array<[string, string, string]> = [
    ['PATCH', '/tasks', 'GET, HEAD, POST'],
    ['DELETE', '/pipelines', 'GET, HEAD, POST'],
    ['POST', '/health', 'GET, HEAD'],
    ['PUT', `/tasks/${taskId}`, 'DELETE, GET, HEAD, PATCH'],
    ['GET', `/tasks/${taskId}/dependencies/x`, 'DELETE'],
    ['POST', `/tasks/${taskId}/assignments/x`, 'DELETE'],
    ['OPTIONS', '/tasks/bulk', 'POST'],
  ]
  for (const [method, path, allow] of cases) {
    const res = expectError(await s.request(method, path), 405, 'method_not_allowed')
    assert.is(res.headers.get('allow'), allow, `${method} ${path}`)
  }
})

test('a literal path matches only its own routes, never a template: wrong methods are 405 with its Allow', async ({ s }) => {
  const cases: Array<[string, string, string]> = [
    ['GET', '/tasks/bulk', 'POST'],
    ['DELETE', '/store/search', 'GET, HEAD'],
    ['PUT', '/store/search', 'GET, HEAD'],
    ['GET', '/leases/claim', 'POST'],
    ['DELETE', '/tasks', 'GET, HEAD, POST'],
  ]
  for (const [method, path, allow] of cases) {
    const res = expectError(await s.request(method, path), 405, 'method_not_allowed')
    assert.is(res.headers.get('allow'), allow, `${method} ${path}`)
  }
  // HEAD of a literal POST-only path is 405 too, and the template routes next to it still work.
  assert.is((await rawRequest(s.url, 'HEAD', '/tasks/bulk')).status, 405)
  expectError(await s.request('GET', '/tasks/bulky'), 404, 'not_found')
  expectStatus(await s.request('GET', '/store/search?q=nothing'), 200)
  expectStatus(await s.request('GET', '/store/search/k'), 404)
})

test('HEAD works on every GET route and sends no body', async ({ s, pipelineId, taskId }) => {
  for (const route of ROUTES.filter((r) => r.method === 'GET')) {
    const path = fill(route.path, route.path.startsWith('/pipelines') ? pipelineId : taskId)
    const get = await s.request('GET', path)
    const head = await rawRequest(s.url, 'HEAD', path)
    assert.is(head.status, get.status, path)
    assert.is(head.text, '', path)
    assert.is(head.headers['content-type'], get.headers.get('content-type'), path)
  }
})

test('HEAD announces the length GET would send and keeps the connection alive', async ({ s, taskId }) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  try {
    const get = await rawRequest(s.url, 'GET', `/tasks/${taskId}`, { agent })
    const head = await rawRequest(s.url, 'HEAD', `/tasks/${taskId}`, { agent })
    assert.is(head.headers['content-length'], String(Buffer.byteLength(get.text)))
    const after = await rawRequest(s.url, 'GET', '/health', { agent })
    assert.ok(head.reusedSocket && after.reusedSocket, 'one connection for all three')
  } finally {
    agent.destroy()
  }
})

test('an unknown path is 404 not_found', async ({ s }) => {
  for (const path of ['/', '/nope', '/tasks/a/b/c/d', '/pipelines/x/tasks', '/health/x']) {
    expectError(await s.request('GET', path), 404, 'not_found')
    expectError(await s.request('POST', path, {}), 404, 'not_found')
  }
})

test('empty segments and trailing slashes are ignored', async ({ s, taskId }) => {
  expectStatus(await s.request('GET', '//tasks//'), 200)
  expectStatus(await s.request('GET', `/tasks/${taskId}/`), 200)
  expectStatus(await s.request('GET', `//tasks///${taskId}//dependencies/`), 200)
})

test('path segments are percent-decoded once, keeping + and %2F', async ({ s, pipelineId }) => {
  const encoded = [...pipelineId].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')
  expectStatus(await s.request('GET', `/pipelines/${encoded}`), 200)
  expectError(await s.request('GET', `/pipelines/%25${encoded.slice(1)}`), 404, 'not_found')
  const res = await rawRequest(s.url, 'GET', '/tasks/a%2F..%2F..')
  assert.is(res.status, 404)
  assert.is(res.body.error.code, 'not_found')
  const dots = await rawRequest(s.url, 'GET', '/tasks/../tasks')
  assert.is(dots.status, 404)
})

test('bad percent-encoding in a path segment or query value is 400 validation_failed', async ({ s }) => {
  for (const path of ['/tasks/%', '/tasks/%zz', '/tasks/%E0%A4%A', '/tasks/%FF', '/pipelines/%C0%AF']) {
    expectError(await s.request('GET', path), 400, 'validation_failed')
  }
  for (const query of ['stage=%', 'pipeline_id=%zz', 'limit=%FF', 'cursor=%E0%A4', '%zz=1']) {
    expectError(await s.request('GET', `/tasks?${query}`), 400, 'validation_failed')
  }
})

test('+ in a query value is a space and %2B a plus', async ({ s }) => {
  const p = await createPipeline(s, { initial: 'a b+c', states: { 'a b+c': { agent_role: 'r+1' }, z: { terminal: true } }, transitions: [{ from: 'a b+c', to: 'z', trigger: 't' }] })
  const id = await createTask(s, p)
  const page = expectStatus(await s.request('GET', `/tasks?stage=a+b%2Bc&pipeline_id=${p}`), 200).body
  assert.equal(page.items.map((t: { id: string }) => t.id), [id])
})

test('responses are compact JSON with one content type; 204 has neither body nor type', async ({ s, pipelineId }) => {
  const a = await createTask(s, pipelineId)
  const b = await createTask(s, pipelineId)
  const answers = [await s.request('GET', `/tasks/${a}`), await s.request('GET', '/nope'), await s.request('POST', '/tasks', '{'), await s.request('GET', '/openapi.json')]
  for (const res of answers) {
    assert.is(res.headers.get('content-type'), JSON_TYPE)
    assert.is(JSON.stringify(JSON.parse(res.text)), res.text)
  }
  expectStatus(await s.request('POST', `/tasks/${a}/dependencies`, { depends_on_task_id: b }), 201)
  const res = await rawRequest(s.url, 'DELETE', `/tasks/${a}/dependencies/${b}`)
  assert.is(res.status, 204)
  assert.is(res.text, '')
  assert.is(res.headers['content-type'], undefined)
})

test('keep-alive connections carry many requests, concurrently', async ({ s }) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const first = await rawRequest(s.url, 'GET', '/health', { agent })
  const second = await rawRequest(s.url, 'GET', '/tasks?limit=1', { agent })
  assert.is(first.status, 200)
  assert.is(second.status, 200)
  assert.ok(second.reusedSocket, 'socket reused')
  agent.destroy()

  const pool = new Pool(s.url, { connections: 4, pipelining: 1 })
  try {
    const answers = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
      const res = await pool.request({ method: 'GET', path: i % 2 ? '/health' : '/tasks?limit=5' })
      await res.body.text()
      return res.statusCode
    }))
    assert.ok(answers.every((status) => status === 200))
  } finally {
    await pool.close()
  }
})

test('a client that stalls mid-request does not hold up others', async ({ s }) => {
  const headersOnly = await stalledConnection(s.url, 'POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"pipe')
  const halfHeaders = await stalledConnection(s.url, 'GET /health HTTP/1.1\r\nHost: x\r\n')
  try {
    expectStatus(await s.request('GET', '/health'), 200)
    expectStatus(await s.request('GET', '/tasks?limit=1'), 200)
  } finally {
    headersOnly.destroy()
    halfHeaders.destroy()
  }
})

// --- every route, bad input ---------------------------------------------------------------------------

const OPTIONAL_BODY = new Set([
  'POST /tasks/:id/cancel', 'POST /tasks/:id/requeue', 'POST /pipelines/:id/pause', 'POST /pipelines/:id/resume',
  'POST /leases/:id/heartbeat', 'POST /schedules/pause', 'POST /schedules/resume', 'POST /schedules/:name/trigger',
  'POST /schedules/:name/pause', 'POST /schedules/:name/resume',
])

test('every write route answers malformed and non-object bodies with 400 invalid_json', async ({ s, taskId, pipelineId }) => {
  // OTLP ingest takes any bytes: what is not JSON by its content type is kept as a blob (R§22.1).
  for (const route of ROUTES.filter((r) => (r.method === 'POST' || r.method === 'PUT') && !r.path.endsWith('/v1/traces'))) {
    const path = fill(route.path, route.path.startsWith('/pipelines') ? pipelineId : taskId)
    // Some bodies may be left out (cancel, requeue, pause, resume, heartbeat): for them only '' is fine.
    const bodies = OPTIONAL_BODY.has(`${route.method} ${route.path}`) ? ['{', '[1]', '"x"', '42', 'null'] : ['{', '[1]', '"x"', '42', 'null', '']
    for (const body of bodies) {
      const res = await s.request(route.method, path, body)
      expectClientError(res, `${route.method} ${route.path} ${JSON.stringify(body)}`)
      if (route.access === 'api') assert.is(res.body.error.code, 'invalid_json', `${route.method} ${route.path}`)
    }
  }
})

test('every write route answers an oversized body with 413', async ({ s, taskId, pipelineId }) => {
  for (const route of ROUTES.filter((r) => r.method !== 'GET')) {
    const path = fill(route.path, route.path.startsWith('/pipelines') ? pipelineId : taskId)
    const res = await rawRequest(s.url, route.method, path, { headers: { 'content-length': String(LIMIT * 2) }, chunks: ['{'.repeat(LIMIT * 2)] })
    expectClientError(res, `${route.method} ${route.path}`)
    if (route.access === 'api') assert.is(res.status, 413, `${route.method} ${route.path}`)
  }
})

test('every route with a path id answers an unknown id with 404', async ({ s, taskId }) => {
  const bodies: Record<string, unknown> = {
    'POST /tasks/:id/dependencies': { depends_on_task_id: taskId },
    'POST /tasks/:id/assignments': { agent_id: 'a' },
    'PATCH /tasks/:id': { priority: 1 },
    'POST /tasks/:id/signal': { trigger: 't' },
  }
  // Store paths name a namespace and a key, not records that must exist (a PUT creates them), as a schedule's PUT does.
  const creates = (r: { method: string; path: string }) => r.path.startsWith('/store') || (r.method === 'PUT' && r.path === '/schedules/:name')
  for (const route of ROUTES.filter((r) => r.path.includes(':') && !creates(r))) {
    const body = route.method === 'GET' ? undefined : bodies[`${route.method} ${route.path}`] ?? {}
    const res = await s.request(route.method, fill(route.path, 'ghost'), body)
    expectClientError(res, `${route.method} ${route.path}`)
    if (route.access === 'api') assert.is(res.status, 404, `${route.method} ${route.path}: ${res.text}`)
  }
})

test('every route with a path id answers bad percent-encoding with 400', async ({ s }) => {
  for (const route of ROUTES.filter((r) => r.path.includes(':'))) {
    const res = await s.request(route.method, fill(route.path, '%E0%A4%A'), route.method === 'GET' ? undefined : '{}')
    expectError(res, 400, 'validation_failed')
  }
})

test('unknown ids in bodies are 404 with the documented codes', async ({ s, taskId }) => {
  expectError(await s.request('POST', '/tasks', { pipeline_id: 'ghost', title: 't', description: 'd' }), 404, 'pipeline_not_found')
  expectError(await s.request('POST', '/tasks/bulk', { tasks: [{ pipeline_id: 'ghost', title: 't', description: 'd' }] }), 404, 'pipeline_not_found')
  expectError(await s.request('POST', `/tasks/${taskId}/dependencies`, { depends_on_task_id: 'ghost' }), 404, 'dependency_task_not_found')
})

test.run()
