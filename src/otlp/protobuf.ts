// OTLP/protobuf ExportTraceServiceRequest → spans, straight off the wire. Field numbers are those of the official
// definitions (opentelemetry-proto: collector/trace/v1/trace_service.proto, trace/v1/trace.proto,
// common/v1/common.proto, resource/v1/resource.proto). Written by hand because no protobuf runtime is installed
// and @opentelemetry/otlp-transformer only writes requests (its reader is internal and decodes responses only);
// a decoder for these few messages reads spans without building an intermediate message tree.
import {
  AttributeWriter, doubleJson, jsonString, linkedIds, MAX_INT64, MAX_VALUE_DEPTH, REJECT_IDS, REJECT_TIME, Rejections,
  SPAN_ID_BYTES, TRACE_ID_BYTES, type DecodedSpans, type Span,
} from './span.ts'
import { Reader, ProtobufError, VARINT, FIXED64, BYTES, FIXED32 } from './wire.ts'

type Scope = { name: string | null; version: string | null }
type Resource = { attributes: AttributeWriter; json: string }

/** Throws ProtobufError when the body is not a well-formed request (the route then keeps it as a blob). */
export function decodeProtobuf(body: Buffer): DecodedSpans {
  const r = new Reader(body)
  const spans: Span[] = []
  const rejections = new Rejections()
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | BYTES)) {
      const end = r.enter()
      resourceSpans(r, spans, rejections)
      r.leave(end)
    } else r.skip(tag)
  }
  return { spans, rejected: rejections.count, rejectReason: rejections.reason }
}

/** Two passes over the message: the resource may follow its spans on the wire. */
function resourceSpans(r: Reader, spans: Span[], rejections: Rejections): void {
  const start = r.pos
  const attributes = new AttributeWriter()
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | BYTES)) {
      const end = r.enter()
      while (r.more()) {
        const t = r.tag()
        if (t === (1 << 3 | BYTES)) keyValue(r, attributes, 0)
        else r.skip(t)
      }
      r.leave(end)
    } else r.skip(tag)
  }
  const resource: Resource = { attributes, json: attributes.json() }
  r.pos = start
  while (r.more()) {
    const tag = r.tag()
    // 1000: the deprecated instrumentation_library_spans, laid out like scope_spans.
    if (tag === (2 << 3 | BYTES) || tag === (1000 << 3 | BYTES)) {
      const end = r.enter()
      scopeSpans(r, resource, spans, rejections)
      r.leave(end)
    } else r.skip(tag)
  }
}

function scopeSpans(r: Reader, resource: Resource, spans: Span[], rejections: Rejections): void {
  const start = r.pos
  let scope: Scope = { name: null, version: null }
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | BYTES)) scope = scopeOf(r)
    else r.skip(tag)
  }
  r.pos = start
  while (r.more()) {
    const tag = r.tag()
    if (tag === (2 << 3 | BYTES)) {
      const end = r.enter()
      const span = spanOf(r, scope, resource, rejections)
      r.leave(end)
      if (span !== null) spans.push(span)
    } else r.skip(tag)
  }
}

function scopeOf(r: Reader): Scope {
  const end = r.enter()
  const scope: Scope = { name: null, version: null }
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | BYTES)) scope.name = r.string() || null
    else if (tag === (2 << 3 | BYTES)) scope.version = r.string() || null
    else r.skip(tag)
  }
  r.leave(end)
  return scope
}

function spanOf(r: Reader, scope: Scope, resource: Resource, rejections: Rejections): Span | null {
  let traceId: Buffer | null = null
  let spanId: Buffer | null = null
  let parentSpanId: Buffer | null = null
  let traceState: string | null = null
  let name = ''
  let kind = 0
  let start = 0n
  let end = 0n
  let statusCode = 0
  let statusMessage: string | null = null
  let flags: number | null = null
  const attributes = new AttributeWriter()
  let events: string[] | null = null
  let links: string[] | null = null
  while (r.more()) {
    const tag = r.tag()
    switch (tag) {
      case 1 << 3 | BYTES: traceId = r.bytes(); break
      case 2 << 3 | BYTES: spanId = r.bytes(); break
      case 3 << 3 | BYTES: traceState = r.string(); break
      case 4 << 3 | BYTES: parentSpanId = r.bytes(); break
      case 5 << 3 | BYTES: name = r.string(); break
      case 6 << 3 | VARINT: kind = r.varint() | 0; break
      case 7 << 3 | FIXED64: start = r.fixed64(); break
      case 8 << 3 | FIXED64: end = r.fixed64(); break
      case 9 << 3 | BYTES: keyValue(r, attributes, 0); break
      case 11 << 3 | BYTES: (events ??= []).push(eventJson(r)); break
      case 13 << 3 | BYTES: (links ??= []).push(linkJson(r)); break
      case 15 << 3 | BYTES: {
        const stop = r.enter()
        while (r.more()) {
          const t = r.tag()
          if (t === (2 << 3 | BYTES)) statusMessage = r.string()
          else if (t === (3 << 3 | VARINT)) statusCode = r.varint() | 0
          else r.skip(t)
        }
        r.leave(stop)
        break
      }
      case 16 << 3 | FIXED32: flags = r.fixed32(); break
      default: r.skip(tag)
    }
  }
  if (traceId?.length !== TRACE_ID_BYTES || spanId?.length !== SPAN_ID_BYTES ||
    (parentSpanId !== null && parentSpanId.length !== 0 && parentSpanId.length !== SPAN_ID_BYTES)) {
    rejections.add(REJECT_IDS)
    return null
  }
  if (start > MAX_INT64 || end > MAX_INT64) {
    rejections.add(REJECT_TIME)
    return null
  }
  const { runId, taskId } = linkedIds(attributes, resource.attributes)
  return {
    traceId, spanId, parentSpanId: parentSpanId?.length ? parentSpanId : null, traceState: traceState || null,
    name, kind, startTimeUnixNano: start, endTimeUnixNano: end, statusCode, statusMessage: statusMessage || null, flags,
    attributesJson: attributes.json(), resourceAttributesJson: resource.json,
    scopeName: scope.name, scopeVersion: scope.version,
    eventsJson: events === null ? null : `[${events.join(',')}]`,
    linksJson: links === null ? null : `[${links.join(',')}]`,
    runId, taskId,
  }
}

function eventJson(r: Reader): string {
  const stop = r.enter()
  let time = 0n
  let name = ''
  const attributes = new AttributeWriter()
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | FIXED64)) time = r.fixed64()
    else if (tag === (2 << 3 | BYTES)) name = r.string()
    else if (tag === (3 << 3 | BYTES)) keyValue(r, attributes, 0)
    else r.skip(tag)
  }
  r.leave(stop)
  return `{"time_unix_nano":"${time}","name":${jsonString(name)},"attributes":${attributes.json()}}`
}

function linkJson(r: Reader): string {
  const stop = r.enter()
  let traceId = ''
  let spanId = ''
  let traceState: string | null = null
  const attributes = new AttributeWriter()
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | BYTES)) traceId = r.bytes().toString('hex')
    else if (tag === (2 << 3 | BYTES)) spanId = r.bytes().toString('hex')
    else if (tag === (3 << 3 | BYTES)) traceState = r.string() || null
    else if (tag === (4 << 3 | BYTES)) keyValue(r, attributes, 0)
    else r.skip(tag)
  }
  r.leave(stop)
  return `{"trace_id":"${traceId}","span_id":"${spanId}","trace_state":${traceState === null ? 'null' : jsonString(traceState)},` +
    `"attributes":${attributes.json()}}`
}

function keyValue(r: Reader, into: AttributeWriter, depth: number): void {
  const stop = r.enter()
  let key = ''
  let json = 'null'
  while (r.more()) {
    const tag = r.tag()
    if (tag === (1 << 3 | BYTES)) key = r.string()
    else if (tag === (2 << 3 | BYTES)) json = anyValue(r, depth + 1)
    else r.skip(tag)
  }
  r.leave(stop)
  into.add(key, json)
}

/** An AnyValue as JSON text, unwrapped (the oneof's last field wins, as in any protobuf parser). */
function anyValue(r: Reader, depth: number): string {
  if (depth > MAX_VALUE_DEPTH) throw new ProtobufError('AnyValue nested too deeply')
  const stop = r.enter()
  let json = 'null'
  while (r.more()) {
    const tag = r.tag()
    switch (tag) {
      case 1 << 3 | BYTES: json = jsonString(r.string()); break
      case 2 << 3 | VARINT: json = r.varint() !== 0 ? 'true' : 'false'; break
      case 3 << 3 | VARINT: {
        const n = r.int64()
        json = typeof n === 'number' ? String(n) : `"${n}"`
        break
      }
      case 4 << 3 | FIXED64: json = doubleJson(r.double()); break
      case 5 << 3 | BYTES: {
        const end = r.enter()
        const items: string[] = []
        while (r.more()) {
          const t = r.tag()
          if (t === (1 << 3 | BYTES)) items.push(anyValue(r, depth + 1))
          else r.skip(t)
        }
        r.leave(end)
        json = `[${items.join(',')}]`
        break
      }
      case 6 << 3 | BYTES: {
        const end = r.enter()
        const entries = new AttributeWriter()
        while (r.more()) {
          const t = r.tag()
          if (t === (1 << 3 | BYTES)) keyValue(r, entries, depth + 1)
          else r.skip(t)
        }
        r.leave(end)
        json = entries.json()
        break
      }
      case 7 << 3 | BYTES: json = `"${r.bytes().toString('base64')}"`; break
      default: r.skip(tag)
    }
  }
  r.leave(stop)
  return json
}
