import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connect, type Socket } from 'node:net'
import { gzipSync } from 'node:zlib'
import { startProcess, tempDir, type DocketProcess } from '../helpers/process.ts'
import { expectError, expectStatus, unique } from '../helpers/fixtures.ts'

type Ctx = { p: DocketProcess; remove(): void }
const test = suite<Ctx>('limits (child process)', {} as Ctx)
const BODY_LIMIT = 4096

test.before(async (ctx) => {
  const tmp = tempDir()
  ctx.remove = tmp.remove
  ctx.p = await startProcess(['--db', `${tmp.dir}/d.db`, '--max-body-bytes', String(BODY_LIMIT), '--headers-timeout-ms', '1000', '--request-timeout-ms', '1500'])
})
test.after(async (ctx) => {
  assert.equal(await ctx.p.kill('SIGTERM'), { code: 0, signal: null })
  ctx.remove()
})

const hostPort = (url: string) => { const u = new URL(url); return { host: u.hostname, port: Number(u.port) } }

/** Opens a raw connection that writes `head` and then one more byte every 100 ms, never finishing. */
function dribble(url: string, head: string): Promise<{ socket: Socket; closed: Promise<{ afterMs: number; response: string }> }> {
  return new Promise((resolve) => {
    const socket = connect(hostPort(url), () => {
      const start = performance.now()
      let response = ''
      socket.on('data', (d) => { response += d })
      socket.on('error', () => {})
      socket.write(head)
      const timer = setInterval(() => { if (!socket.destroyed) socket.write('a') }, 100)
      const closed = new Promise<{ afterMs: number; response: string }>((done) => socket.on('close', () => {
        clearInterval(timer)
        done({ afterMs: performance.now() - start, response })
      }))
      resolve({ socket, closed })
    })
  })
}

test('a body over --max-body-bytes is 413 payload_too_large, declared or chunked, and the server keeps serving', async ({ p }) => {
  const big = JSON.stringify({ name: 'x'.repeat(BODY_LIMIT), definition: {} })
  expectError(await p.request('POST', '/pipelines', big), 413, 'payload_too_large')
  const chunked = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close() } })
  const res = await fetch(`${p.url}/pipelines`, { method: 'POST', body: chunked, duplex: 'half' } as RequestInit)
  assert.is(res.status, 413)
  assert.is((await res.json()).error.code, 'payload_too_large')
  expectStatus(await p.request('GET', '/health'), 200)
})

test('a small gzip body that inflates past the limit is 413: the decompressed size counts', async ({ p }) => {
  const bomb = gzipSync(Buffer.alloc(BODY_LIMIT * 64))
  assert.ok(bomb.length < BODY_LIMIT)
  const res = await p.request('POST', '/v1/traces', bomb, { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })
  expectError(res, 413, 'payload_too_large')
})

test('JSON nested deeper than 64 levels is 400 validation_failed; 64 levels are accepted', async ({ p }) => {
  const nest = (depth: number) => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1)
  const definition = { initial: 'w', states: { w: { agent_role: 'r' }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
  const pipelineId = expectStatus(await p.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
  const task = (depth: number) => `{"pipeline_id":"${pipelineId}","title":"t","description":"d","metadata":${nest(depth)}}`
  expectStatus(await p.request('POST', '/tasks', task(63)), 201) // the body object itself is one level
  expectError(await p.request('POST', '/tasks', task(64)), 400, 'validation_failed')
  expectError(await p.request('POST', '/tasks', task(100_000).slice(0, BODY_LIMIT - 1)), 400, 'invalid_json')
})

test('limit is at most 1000 on every list route: 1000 is accepted, 1001 is 400 invalid_limit', async ({ p }) => {
  for (const path of ['/tasks', '/artifacts', '/spans']) {
    expectStatus(await p.request('GET', `${path}?limit=1000`), 200)
    expectError(await p.request('GET', `${path}?limit=1001`), 400, 'invalid_limit')
    expectError(await p.request('GET', `${path}?limit=0`), 400, 'invalid_limit')
  }
})

test('an Idempotency-Key longer than 255 characters is 400 validation_failed; 255 are accepted', async ({ p }) => {
  const definition = { initial: 'w', states: { w: { agent_role: 'r' }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
  const pipeline = (key: string) => p.request('POST', '/pipelines', { name: unique('p'), definition }, { 'idempotency-key': key })
  expectStatus(await pipeline('k'.repeat(255)), 201)
  const res = expectError(await pipeline('k'.repeat(256)), 400, 'validation_failed')
  assert.is(res.body.error.details[0].path, 'headers.idempotency-key')
})

/** A raw HTTP/1.1 answer split into status, lower-cased headers and the body parsed as JSON. */
function parseRaw(text: string): { status: number; headers: Record<string, string>; body: any } {
  const [head, body] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)]
  const [statusLine, ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  assert.is(Buffer.byteLength(body), Number(headers['content-length']), text)
  return { status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(body) }
}

/** Node's own answers to a request it cannot read must carry Docket's envelope too. */
function expectRawError(text: string, status: number, code: string): void {
  const res = parseRaw(text)
  assert.is(res.status, status, text)
  assert.is(res.headers['content-type'], 'application/json; charset=utf-8')
  assert.is(res.headers.connection, 'close')
  assert.is(res.body.error.code, code, text)
  assert.type(res.body.error.message, 'string')
}

test('request headers over 16 KiB are 431 headers_too_large in the envelope and the server keeps serving', async ({ p }) => {
  const res = await fetch(`${p.url}/health`, { headers: { 'x-big': 'h'.repeat(17 * 1024) } })
  assert.is(res.status, 431)
  assert.is(res.headers.get('content-type'), 'application/json; charset=utf-8')
  assert.is((await res.json()).error.code, 'headers_too_large')
  expectStatus(await p.request('GET', '/health'), 200)
})

test('a request Node cannot parse is 400 bad_request in the envelope', async ({ p }) => {
  for (const raw of ['BAD REQUEST LINE\r\n\r\n', 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n']) {
    const { closed } = await dribble(p.url, raw)
    expectRawError((await closed).response, 400, 'bad_request')
  }
  expectStatus(await p.request('GET', '/health'), 200)
})

test('clients dribbling headers or a body one byte at a time are cut off by the timeouts and never block others', async ({ p }) => {
  const slowHeaders = await dribble(p.url, 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ')
  const slowBody = await dribble(p.url, 'POST /pipelines HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3000\r\n\r\n')
  // While both hang on, everyone else is served at once.
  for (let i = 0; i < 20; i++) {
    const start = performance.now()
    expectStatus(await p.request('GET', '/health'), 200)
    assert.ok(performance.now() - start < 500, 'a request waited behind a slow client')
  }
  const [headers, body] = await Promise.all([slowHeaders.closed, slowBody.closed])
  // Headers timeout 1 s, request timeout 1.5 s; Node checks every 500 ms.
  assert.ok(headers.afterMs < 3000, `slow headers held ${headers.afterMs} ms`)
  assert.ok(body.afterMs < 3500, `slow body held ${body.afterMs} ms`)
  expectRawError(headers.response, 408, 'request_timeout')
  expectRawError(body.response, 408, 'request_timeout')
  expectStatus(await p.request('GET', '/health'), 200)
  // The handler left waiting for the rest of the body is no server error.
  assert.not.match(p.output(), /unhandled error/)
})

test.run()
