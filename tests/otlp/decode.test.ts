import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import type { ReadableSpan } from '@opentelemetry/sdk-trace'
import { decodeProtobuf } from '../../src/otlp/protobuf.ts'
import { decodeJson } from '../../src/otlp/json.ts'
import { ProtobufError } from '../../src/otlp/wire.ts'
import { exportTraceServiceResponse } from '../../src/otlp/response.ts'
import { AppError } from '../../src/domain/errors.ts'
import { readableSpan } from '../helpers/otlp.ts'

const test = suite('otlp decode')

const protobufOf = (spans: ReadableSpan[]) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)
const jsonOf = (spans: ReadableSpan[]) => JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString())

const text = fc.string({ unit: 'grapheme', maxLength: 12 })
const hexOf = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'))
const attrValue = fc.oneof(
  text, fc.boolean(), fc.integer(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(Number), fc.array(text, { maxLength: 3 }),
)
const spanArb = fc.record({
  traceId: hexOf(16),
  spanId: hexOf(8),
  parentSpanId: fc.option(hexOf(8), { nil: undefined }),
  name: text,
  kind: fc.integer({ min: 0, max: 4 }),
  attributes: fc.dictionary(text, attrValue, { maxKeys: 5 }),
  resource: fc.constantFrom({ 'service.name': 'a' }, { 'service.name': 'b', 'docket.run_id': 'r1' }),
  startTime: fc.tuple(fc.integer({ min: 0, max: 4_000_000_000 }), fc.integer({ min: 0, max: 999_999_999 })),
})

test('JSON and protobuf payloads of the same spans decode to the same spans', () => {
  fc.assert(fc.property(fc.array(spanArb, { minLength: 1, maxLength: 6 }), (fields) => {
    const spans = fields.map((f) => readableSpan(f as never))
    const fromProtobuf = decodeProtobuf(protobufOf(spans))
    const fromJson = decodeJson(jsonOf(spans))
    assert.is(fromProtobuf.spans.length, spans.length)
    assert.equal(fromJson, fromProtobuf)
  }))
})

test('any bytes either decode or fail with ProtobufError, never another error', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    try {
      decodeProtobuf(Buffer.from(bytes))
    } catch (err) {
      assert.instance(err, ProtobufError)
    }
  }), { numRuns: 2000 })
})

test('every truncation and every single-byte corruption of a valid payload decodes or fails with ProtobufError', () => {
  const valid = protobufOf([readableSpan({ attributes: { a: [1, 2], b: 'x', c: 1.5 } }), readableSpan({ parentSpanId: '0102030405060708' })])
  for (let cut = 0; cut < valid.length; cut++) {
    const corrupt = Buffer.from(valid)
    corrupt[cut] ^= 0xa5
    for (const body of [valid.subarray(0, cut), corrupt]) {
      try {
        decodeProtobuf(body)
      } catch (err) {
        assert.instance(err, ProtobufError)
      }
    }
  }
})

test('AnyValue nested past the limit fails cleanly in both encodings', () => {
  let nested: unknown = 'leaf'
  for (let i = 0; i < 40; i++) nested = [nested]
  const span = readableSpan({ attributes: { deep: nested as never } })
  assert.throws(() => decodeProtobuf(protobufOf([span])), (err: unknown) => err instanceof ProtobufError)
  assert.throws(() => decodeJson(jsonOf([span])), (err: unknown) => err instanceof AppError && err.code === 'validation_failed')
})

test('a fixed64 timestamp beyond int64 rejects the span, not the request', () => {
  const span = readableSpan({ startTime: [10_000_000_000, 0] }) // 1e19 ns > 2^63 - 1
  const decoded = decodeProtobuf(protobufOf([span, readableSpan()]))
  assert.equal([decoded.spans.length, decoded.rejected], [1, 1])
})

test('the protobuf answer round-trips through the exporter\'s own response decoder', () => {
  assert.is(exportTraceServiceResponse(0, null).length, 0)
  const answer = ProtobufTraceSerializer.deserializeResponse(exportTraceServiceResponse(300, 'ids ünvalid'))
  assert.equal(answer, { partialSuccess: { rejectedSpans: 300, errorMessage: 'ids ünvalid' } })
})

test.run()
