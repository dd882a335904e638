import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { gzipSync } from 'node:zlib'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import { startServer, type TestServer } from '../helpers/server.ts'
import { expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { diagMessages, exportSpans, exporterFor, makeTrace, readableSpan, type Protocol } from '../helpers/otlp.ts'

type Ctx = { s: TestServer; authed: TestServer }
const test = suite<Ctx>('otlp', {} as Ctx)
test.before(async (ctx) => {
  ctx.s = await startServer()
  ctx.authed = await startServer({ token: 'secret-token' })
})
test.after(async (ctx) => {
  await ctx.s.close()
  await ctx.authed.close()
})

type Raw = { status: number; type: string | null; bytes: Buffer; json: any }

/** POSTs raw bytes and keeps the answer as bytes (a protobuf answer is not text). */
async function post(s: TestServer, body: Uint8Array, headers: Record<string, string>, path = '/v1/traces'): Promise<Raw> {
  const res = await fetch(s.url + path, { method: 'POST', body: new Uint8Array(body), headers })
  const bytes = Buffer.from(await res.arrayBuffer())
  const type = res.headers.get('content-type')
  return { status: res.status, type, bytes, json: type?.startsWith('application/json') ? JSON.parse(bytes.toString()) : undefined }
}

const PROTO = { 'content-type': 'application/x-protobuf' }
const JSON_CT = { 'content-type': 'application/json' }
const protobufOf = (spans: ReadableSpan[]) => ProtobufTraceSerializer.serializeRequest(spans)!
const jsonOf = (spans: ReadableSpan[]) => JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString())

async function spansWhere(s: TestServer, query: string): Promise<any[]> {
  return expectStatus(await s.request('GET', `/spans?limit=1000&${query}`), 200).body.items
}

for (const protocol of ['json', 'protobuf'] as Protocol[]) {
  for (const compression of ['none', 'gzip'] as const) {
    test(`the official ${protocol} exporter (${compression}) succeeds and its spans read back linked to run and task`, async ({ s }) => {
      const runId = unique('run')
      const taskId = unique('task')
      const spans = makeTrace({ 'service.name': 'agent', 'docket.run_id': runId }, { 'docket.task_id': taskId, 'tool.calls': 3 })
      const before = diagMessages.length
      const result = await exportSpans(exporterFor(s.url, protocol, compression), spans)
      assert.is(result.code, 0, String(result.error)) // ExportResultCode.SUCCESS
      assert.equal(diagMessages.slice(before), [], 'the exporter warned about the response')

      const items = await spansWhere(s, `run_id=${runId}`)
      assert.is(items.length, 2)
      const root = items.find((i) => i.name === 'handle request')
      const child = items.find((i) => i.name === 'call tool 0')
      assert.is(root.parent_span_id, null)
      assert.is(child.parent_span_id, root.span_id)
      assert.is(child.trace_id, root.trace_id)
      assert.match(child.trace_id, /^[0-9a-f]{32}$/)
      assert.is(child.task_id, taskId)
      assert.is(root.task_id, null)
      assert.is(child.kind, 3) // SPAN_KIND_CLIENT
      assert.is(child.status_code, 2)
      assert.is(child.status_message, 'tool failed')
      assert.equal(child.attributes, { 'docket.task_id': taskId, 'tool.calls': 3 })
      assert.is(child.resource_attributes['service.name'], 'agent')
      assert.is(child.resource_attributes['docket.run_id'], runId)
      assert.is(child.scope_name, 'docket-tests')
      assert.is(child.events[0].name, 'retrying')
      assert.equal(child.events[0].attributes, { attempt: 2 })
      assert.match(child.start_time_unix_nano, /^\d{19}$/)
      assert.ok(BigInt(child.end_time_unix_nano) >= BigInt(child.start_time_unix_nano))
    })
  }
}

test('/otlp/v1/traces is the same endpoint', async ({ s }) => {
  const runId = unique('run')
  const result = await exportSpans(exporterFor(s.url, 'protobuf', 'none', '/otlp/v1/traces'), makeTrace({ 'nulltickets.run_id': runId }, {}))
  assert.is(result.code, 0)
  assert.is((await spansWhere(s, `run_id=${runId}`)).length, 2)
})

test('a JSON request answers batch_id, accepted_spans and stored "json"', async ({ s }) => {
  const res = await post(s, Buffer.from(JSON.stringify(jsonOf([readableSpan(), readableSpan()]))), JSON_CT)
  assert.is(res.status, 200)
  assert.type(res.json.batch_id, 'number')
  assert.is(res.json.accepted_spans, 2)
  assert.is(res.json.stored, 'json')
  assert.is(res.json.partialSuccess, undefined)
})

test('a decoded protobuf request answers an empty protobuf ExportTraceServiceResponse', async ({ s }) => {
  const res = await post(s, protobufOf([readableSpan()]), PROTO)
  assert.is(res.status, 200)
  assert.is(res.type, 'application/x-protobuf')
  assert.is(res.bytes.length, 0)
})

test('a protobuf request with Accept: application/json answers the JSON body', async ({ s }) => {
  const res = await post(s, protobufOf([readableSpan(), readableSpan()]), { ...PROTO, accept: 'application/json' })
  assert.is(res.status, 200)
  assert.equal({ accepted_spans: res.json.accepted_spans, stored: res.json.stored }, { accepted_spans: 2, stored: 'protobuf' })
})

test('spans with invalid ids are rejected alone and reported in partial_success (protobuf)', async ({ s }) => {
  const name = unique('kept')
  const spans = [readableSpan({ name }), readableSpan({ traceId: 'abcd' }), readableSpan({ spanId: '' })]
  const res = await post(s, protobufOf(spans), PROTO)
  assert.is(res.status, 200)
  const answer = ProtobufTraceSerializer.deserializeResponse(res.bytes)
  assert.is(Number(answer.partialSuccess?.rejectedSpans), 2)
  assert.match(String(answer.partialSuccess?.errorMessage), /trace_id/)
  const traceId = spans[0].spanContext().traceId
  assert.equal((await spansWhere(s, `trace_id=${traceId}`)).map((i) => i.name), [name])
})

test('spans with invalid ids are rejected alone and reported in partialSuccess (JSON)', async ({ s }) => {
  const payload = jsonOf([readableSpan(), readableSpan()])
  payload.resourceSpans[0].scopeSpans[0].spans[1].traceId = 'not hex at all'
  const res = await post(s, Buffer.from(JSON.stringify(payload)), JSON_CT)
  assert.is(res.json.accepted_spans, 1)
  assert.is(res.json.partialSuccess.rejectedSpans, '1')
})

test('JSON int64 fields may be numbers or strings, enums names, ids upper-case hex', async ({ s }) => {
  const span = readableSpan({ attributes: { big: 2 ** 60 } })
  const payload = jsonOf([span])
  const wire = payload.resourceSpans[0].scopeSpans[0].spans[0]
  wire.startTimeUnixNano = 1_700_000_000_000_000_000
  wire.endTimeUnixNano = '1700000001000000000'
  wire.kind = 'SPAN_KIND_PRODUCER'
  wire.status = { code: 'STATUS_CODE_OK' }
  wire.traceId = wire.traceId.toUpperCase()
  wire.attributes.push({ key: 'as_text', value: { intValue: '-42' } }, { key: 'nan', value: { doubleValue: 'NaN' } })
  expectStatus(await post(s, Buffer.from(JSON.stringify(payload)), JSON_CT) as never, 200)
  const [item] = await spansWhere(s, `trace_id=${span.spanContext().traceId}`)
  assert.is(item.start_time_unix_nano, '1700000000000000000')
  assert.is(item.end_time_unix_nano, '1700000001000000000')
  assert.is(item.kind, 4)
  assert.is(item.status_code, 1)
  assert.equal(item.attributes, { big: '1152921504606846976', as_text: -42, nan: 'NaN' })
})

test('attribute values are unwrapped: arrays, key-value lists, bytes, doubles, booleans', async ({ s }) => {
  const span = readableSpan({ attributes: { list: ['a', 'b'], flag: true, ratio: 0.25, blob: new Uint8Array([1, 2, 3]) as never, nested: { deep: { n: 1 } } as never } })
  const res = await post(s, protobufOf([span]), PROTO)
  assert.is(res.status, 200)
  const [item] = await spansWhere(s, `trace_id=${span.spanContext().traceId}`)
  assert.equal(item.attributes, { list: ['a', 'b'], flag: true, ratio: 0.25, blob: 'AQID', nested: { deep: { n: 1 } } })
})

test('linking prefers the span attribute to the resource one, and docket.* to nulltickets.*', async ({ s }) => {
  const spans = [
    readableSpan({ attributes: { 'nulltickets.run_id': 'span-nt', 'docket.run_id': 'span-docket' }, resource: { 'docket.run_id': 'res' } }),
    readableSpan({ attributes: { 'nulltickets.task_id': 'span-nt' }, resource: { 'docket.task_id': 'res', 'docket.run_id': 'res' } }),
  ]
  expectStatus(await post(s, protobufOf(spans), PROTO) as never, 200)
  const [a] = await spansWhere(s, `trace_id=${spans[0].spanContext().traceId}`)
  const [b] = await spansWhere(s, `trace_id=${spans[1].spanContext().traceId}`)
  assert.equal([a.run_id, b.run_id, b.task_id], ['span-docket', 'res', 'span-nt'])
})

test('a batch of 10,000 spans is accepted in one request', async ({ s }) => {
  const runId = unique('run')
  const spans = Array.from({ length: 10_000 }, () => readableSpan({ resource: { 'docket.run_id': runId } }))
  const res = await post(s, protobufOf(spans), { ...PROTO, accept: 'application/json' })
  assert.is(res.json.accepted_spans, 10_000)
  assert.is(await s.docket.app.driver.reads.spanCountOfRun(runId), 10_000)
})

test('spanCountOfRun counts the spans that name a run, and 0 for a run without spans', async ({ s }) => {
  const runId = unique('run')
  await post(s, protobufOf([readableSpan({ attributes: { 'docket.run_id': runId } }), readableSpan({ resource: { 'docket.run_id': runId } })]), PROTO)
  assert.is(await s.docket.app.driver.reads.spanCountOfRun(runId), 2)
  assert.is(await s.docket.app.driver.reads.spanCountOfRun(unique('run')), 0)
})

/** google.rpc.Status { int32 code = 1; string message = 2 }, as far as these tests need it. */
function rpcStatusOf(bytes: Buffer): { code: number; message: string } {
  const status = { code: 0, message: '' }
  for (let i = 0; i < bytes.length;) {
    const tag = bytes[i++]
    let n = 0
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++]
      n += (b & 0x7f) * 2 ** shift
      if (b < 0x80) break
    }
    if (tag === 0x08) status.code = n
    else if (tag === 0x12) [status.message, i] = [bytes.subarray(i, i + n).toString('utf8'), i + n]
    else throw new Error(`unexpected tag ${tag}`)
  }
  return status
}

/** An export whose one span attribute is an AnyValue nested `depth` deep in array_values. */
function deeplyNested(depth: number): Buffer {
  const field = (no: number, payload: Buffer) => Buffer.concat([Buffer.from([no << 3 | 2]), varint(payload.length), payload])
  let value = field(1, Buffer.from('x')) // AnyValue.string_value
  for (let i = 0; i < depth; i++) value = field(5, field(1, value)) // AnyValue.array_value { values }
  const span = Buffer.concat([field(1, Buffer.alloc(16, 1)), field(2, Buffer.alloc(8, 2)), field(9, Buffer.concat([field(1, Buffer.from('k')), field(2, value)]))])
  return field(1, field(2, field(2, span)))
}

function varint(n: number): Buffer {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80)
  out.push(n)
  return Buffer.from(out)
}

const batchCount = async (s: TestServer) => (await s.sql('SELECT count(*) AS n FROM otlp_batches'))[0].n as number

test('protobuf that does not decode is kept as a blob and answered 400 with a protobuf google.rpc.Status', async ({ s }) => {
  const valid = protobufOf([readableSpan(), readableSpan()])
  const bodies = [Buffer.from('abc'), Buffer.from('definitely not protobuf \u0000\u00ff'), valid.subarray(0, valid.length - 5), Buffer.from([0xff, 0xff, 0xff]), deeplyNested(10_000)]
  for (const body of bodies) {
    const before = await batchCount(s)
    for (const headers of [PROTO, { ...PROTO, accept: 'application/json' }, {}]) {
      const res = await post(s, body, headers)
      assert.equal([res.status, res.type], [400, 'application/x-protobuf'], res.bytes.toString())
      const status = rpcStatusOf(res.bytes)
      assert.is(status.code, 3) // INVALID_ARGUMENT
      assert.match(status.message, /not a valid OTLP ExportTraceServiceRequest .*; kept as blob batch \d+/)
    }
    const [stored] = await s.sql('SELECT stored, payload_blob FROM otlp_batches ORDER BY id DESC LIMIT 1')
    assert.is(await batchCount(s), before + 3)
    assert.equal([stored.stored, Buffer.compare(stored.payload_blob, body)], ['blob', 0])
  }
})

test('an Idempotency-Key replay of undecodable protobuf answers the same 400 and keeps one blob', async ({ s }) => {
  const headers = { ...PROTO, 'idempotency-key': unique('key') }
  const before = await batchCount(s)
  const first = await post(s, Buffer.from('abc'), headers)
  const again = await post(s, Buffer.from('abc'), headers, '/v1/traces')
  assert.equal([first.status, again.status, again.type], [400, 400, 'application/x-protobuf'])
  assert.equal(rpcStatusOf(again.bytes), rpcStatusOf(first.bytes))
  assert.is(await batchCount(s), before + 1)
  const conflict = await post(s, Buffer.from('abd'), headers)
  assert.equal([conflict.status, conflict.json?.error.code], [409, 'idempotency_conflict'])
})

test('an Idempotency-Key reused with another export is 409 idempotency_conflict on both OTLP paths', async ({ s }) => {
  for (const path of ['/v1/traces', '/otlp/v1/traces']) {
    const headers = { ...JSON_CT, 'idempotency-key': unique('key') }
    assert.is((await post(s, Buffer.from(JSON.stringify(jsonOf([readableSpan()]))), headers, path)).status, 200)
    const res = await post(s, Buffer.from(JSON.stringify(jsonOf([readableSpan()]))), headers, path)
    assert.equal([res.status, res.json.error.code], [409, 'idempotency_conflict'])
  }
})

test('malformed JSON keeps its 400 invalid_json JSON answer', async ({ s }) => {
  const res = await post(s, Buffer.from('{"resourceSpans":'), JSON_CT)
  assert.equal([res.status, res.type, res.json.error.code], [400, 'application/json; charset=utf-8', 'invalid_json'])
})

test('an empty protobuf body is an empty request: 0 spans, empty protobuf answer', async ({ s }) => {
  const res = await post(s, Buffer.alloc(0), PROTO)
  assert.is(res.status, 200)
  assert.is(res.type, 'application/x-protobuf')
  assert.is(res.bytes.length, 0)
})

test('other content types are kept as a blob, as nullTickets does', async ({ s }) => {
  for (const type of ['text/plain', 'application/octet-stream']) {
    const res = await post(s, Buffer.from('{"resourceSpans":[]}'), { 'content-type': type })
    assert.equal({ status: res.status, stored: res.json.stored }, { status: 200, stored: 'blob' })
  }
})

test('malformed JSON is 400 invalid_json', async ({ s }) => {
  for (const body of ['{', '', '[]', 'null']) {
    expectError(await s.request('POST', '/v1/traces', body, JSON_CT), 400, 'invalid_json')
  }
})

test('JSON of the wrong shape is 400 validation_failed naming the field, and stores nothing', async ({ s }) => {
  const span = readableSpan()
  const payload = jsonOf([readableSpan(), span])
  payload.resourceSpans[0].scopeSpans[0].spans[1].name = 42
  const res = expectError(await s.request('POST', '/v1/traces', payload, JSON_CT), 400, 'validation_failed')
  assert.is(res.body.error.details[0].path, 'resourceSpans[0].scopeSpans[0].spans[1].name')
  expectError(await s.request('POST', '/v1/traces', { resourceSpans: 'x' }, JSON_CT), 400, 'validation_failed')
  expectError(await s.request('POST', '/v1/traces', { resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 'soon' }] }] }] }, JSON_CT), 400, 'validation_failed')
  const first = payload.resourceSpans[0].scopeSpans[0].spans[0]
  assert.equal(await spansWhere(s, `trace_id=${first.traceId}`), [])
})

test('gzip JSON and gzip protobuf are decoded', async ({ s }) => {
  const a = readableSpan()
  const b = readableSpan()
  const json = await post(s, gzipSync(JSON.stringify(jsonOf([a]))), { ...JSON_CT, 'content-encoding': 'gzip' })
  const proto = await post(s, gzipSync(protobufOf([b])), { ...PROTO, 'content-encoding': 'gzip', accept: 'application/json' })
  assert.equal([json.json.accepted_spans, proto.json.accepted_spans], [1, 1])
})

test('a gzip bomb (small body inflating past the body limit) is 413 payload_too_large and the server keeps serving', async ({ s }) => {
  const bomb = gzipSync(Buffer.alloc(4 * 1024 * 1024))
  assert.ok(bomb.length < 10_000)
  const res = await post(s, bomb, { ...PROTO, 'content-encoding': 'gzip' })
  assert.is(res.status, 413)
  assert.is(res.json.error.code, 'payload_too_large')
  expectStatus(await s.request('GET', '/spans?limit=1'), 200)
})

test('a body that is not valid gzip is 400 invalid_encoding', async ({ s }) => {
  const res = await post(s, Buffer.from('not gzip'), { ...PROTO, 'content-encoding': 'gzip' })
  assert.equal([res.status, res.json.error.code], [400, 'invalid_encoding'])
})

test('an unknown Content-Encoding is 415 unsupported_encoding', async ({ s }) => {
  const res = await post(s, protobufOf([readableSpan()]), { ...PROTO, 'content-encoding': 'snappy' })
  assert.equal([res.status, res.json.error.code], [415, 'unsupported_encoding'])
})

test('GET /spans pages through every span exactly once', async ({ s }) => {
  const runId = unique('run')
  const spans = Array.from({ length: 7 }, () => readableSpan({ resource: { 'docket.run_id': runId } }))
  await post(s, protobufOf(spans), PROTO)
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: any = expectStatus(await s.request('GET', `/spans?run_id=${runId}&limit=3${cursor ? `&cursor=${cursor}` : ''}`), 200).body
    seen.push(...page.items.map((i: any) => i.span_id))
    cursor = page.next_cursor
  } while (cursor !== null)
  assert.equal(seen, spans.map((sp) => sp.spanContext().spanId))
})

test('GET /spans filters by task_id and by trace_id', async ({ s }) => {
  const taskId = unique('task')
  const spans = [readableSpan({ attributes: { 'docket.task_id': taskId } }), readableSpan()]
  await post(s, protobufOf(spans), PROTO)
  assert.equal((await spansWhere(s, `task_id=${taskId}`)).map((i) => i.span_id), [spans[0].spanContext().spanId])
  const traceId = spans[1].spanContext().traceId
  assert.equal((await spansWhere(s, `trace_id=${traceId.toUpperCase()}`)).map((i) => i.trace_id), [traceId])
})

test('GET /spans rejects a bad trace_id, limit and cursor', async ({ s }) => {
  expectError(await s.request('GET', '/spans?trace_id=xyz'), 400, 'validation_failed')
  expectError(await s.request('GET', '/spans?limit=0'), 400, 'invalid_limit')
  expectError(await s.request('GET', '/spans?limit=1001'), 400, 'invalid_limit')
  expectError(await s.request('GET', '/spans?cursor=abc'), 400, 'invalid_cursor')
})

test('with an API token, ingest and GET /spans need it', async ({ authed }) => {
  expectError(await authed.request('POST', '/v1/traces', Buffer.from(protobufOf([readableSpan()])), PROTO), 401, 'unauthorized')
  expectError(await authed.request('GET', '/spans'), 401, 'unauthorized')
  const bearer = { authorization: 'Bearer secret-token' }
  const result = await exportSpans(exporterFor(authed.url, 'protobuf', 'gzip', '/v1/traces', bearer), [readableSpan()])
  assert.is(result.code, 0)
  expectStatus(await authed.request('GET', '/spans', undefined, bearer), 200)
})

test('an Idempotency-Key replay of a protobuf export answers protobuf and stores the spans once', async ({ s }) => {
  const runId = unique('run')
  const body = protobufOf([readableSpan({ resource: { 'docket.run_id': runId } })])
  const headers = { ...PROTO, 'idempotency-key': unique('key') }
  const first = await post(s, body, headers)
  const again = await post(s, body, headers)
  assert.equal([first.status, again.status, again.type], [200, 200, 'application/x-protobuf'])
  assert.is(await s.docket.app.driver.reads.spanCountOfRun(runId), 1)
})

test.run()
