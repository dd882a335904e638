// OTLP/JSON (proto3 JSON with hex ids, https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding) → spans.
// Unknown fields are ignored; int64 fields may be numbers or decimal strings; enums numbers or names.
// A value of the wrong JSON type is a 400 naming its path; a span without valid ids is rejected alone.
import { validationError } from '../domain/errors.ts'
import { finite } from './protobuf.ts'
import {
  addAttribute, linkedId, MAX_INT64, MAX_VALUE_DEPTH, newAttributes, REJECT_IDS, Rejections,
  SPAN_ID_BYTES, TRACE_ID_BYTES, type Attributes, type DecodedSpans, type Span, type Value,
} from './span.ts'

type Obj = Record<string, unknown>
type Scope = { name: string | null; version: string | null }

const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER']
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']
const HEX = /^[0-9a-fA-F]*$/

/** `request` is the parsed body, already known to be a JSON object. */
export function decodeJson(request: Obj): DecodedSpans {
  const spans: Span[] = []
  const rejections = new Rejections()
  list(request.resourceSpans, 'resourceSpans').forEach((rs, i) => {
    const path = `resourceSpans[${i}]`
    const resourceSpans = obj(rs, path)
    const resource = optObj(resourceSpans.resource, `${path}.resource`)
    const resourceAttrs = attributes(resource?.attributes, `${path}.resource.attributes`)
    const resourceJson = JSON.stringify(resourceAttrs)
    // Both are read when both are present, as nullTickets does (instrumentationLibrarySpans is the pre-1.0 name).
    for (const field of ['scopeSpans', 'instrumentationLibrarySpans']) {
      list(resourceSpans[field], `${path}.${field}`).forEach((ss, j) => {
        const at = `${path}.${field}[${j}]`
        const scopeSpans = obj(ss, at)
        const scopeField = 'scope' in scopeSpans ? 'scope' : 'instrumentationLibrary'
        const scopeObj = optObj(scopeSpans[scopeField], `${at}.${scopeField}`)
        const scope: Scope = {
          name: optStr(scopeObj?.name, `${at}.${scopeField}.name`) || null,
          version: optStr(scopeObj?.version, `${at}.${scopeField}.version`) || null,
        }
        list(scopeSpans.spans, `${at}.spans`).forEach((s, k) => {
          const span = spanOf(obj(s, `${at}.spans[${k}]`), `${at}.spans[${k}]`, scope, resourceAttrs, resourceJson, rejections)
          if (span !== null) spans.push(span)
        })
      })
    }
  })
  return { spans, rejected: rejections.count, rejectReason: rejections.reason }
}

function spanOf(s: Obj, path: string, scope: Scope, resource: Attributes, resourceJson: string, rejections: Rejections): Span | null {
  const traceId = id(s.traceId, `${path}.traceId`)
  const spanId = id(s.spanId, `${path}.spanId`)
  const parentSpanId = id(s.parentSpanId, `${path}.parentSpanId`)
  const status = optObj(s.status, `${path}.status`)
  const attrs = attributes(s.attributes, `${path}.attributes`)
  const events = list(s.events, `${path}.events`).map((e, i) => eventOf(obj(e, `${path}.events[${i}]`), `${path}.events[${i}]`))
  const links = list(s.links, `${path}.links`).map((l, i) => linkOf(obj(l, `${path}.links[${i}]`), `${path}.links[${i}]`))
  const span: Span = {
    traceId: traceId ?? Buffer.alloc(0),
    spanId: spanId ?? Buffer.alloc(0),
    parentSpanId: parentSpanId?.length ? parentSpanId : null,
    traceState: optStr(s.traceState, `${path}.traceState`) || null,
    name: optStr(s.name, `${path}.name`) ?? '',
    kind: enumOf(s.kind, SPAN_KINDS, `${path}.kind`),
    startTimeUnixNano: int64(s.startTimeUnixNano, `${path}.startTimeUnixNano`),
    endTimeUnixNano: int64(s.endTimeUnixNano, `${path}.endTimeUnixNano`),
    statusCode: enumOf(status?.code, STATUS_CODES, `${path}.status.code`),
    statusMessage: optStr(status?.message, `${path}.status.message`) || null,
    flags: s.flags == null ? null : uint32(s.flags, `${path}.flags`),
    attributesJson: JSON.stringify(attrs),
    resourceAttributesJson: resourceJson,
    scopeName: scope.name,
    scopeVersion: scope.version,
    eventsJson: events.length === 0 ? null : JSON.stringify(events),
    linksJson: links.length === 0 ? null : JSON.stringify(links),
    runId: linkedId(attrs, resource, 'run_id'),
    taskId: linkedId(attrs, resource, 'task_id'),
  }
  if (span.traceId.length !== TRACE_ID_BYTES || span.spanId.length !== SPAN_ID_BYTES ||
    (parentSpanId !== null && parentSpanId.length !== 0 && parentSpanId.length !== SPAN_ID_BYTES)) {
    rejections.add(REJECT_IDS)
    return null
  }
  return span
}

function eventOf(e: Obj, path: string): unknown {
  return {
    time_unix_nano: String(int64(e.timeUnixNano, `${path}.timeUnixNano`)),
    name: optStr(e.name, `${path}.name`) ?? '',
    attributes: attributes(e.attributes, `${path}.attributes`),
  }
}

function linkOf(l: Obj, path: string): unknown {
  return {
    trace_id: optStr(l.traceId, `${path}.traceId`)?.toLowerCase() ?? '',
    span_id: optStr(l.spanId, `${path}.spanId`)?.toLowerCase() ?? '',
    trace_state: optStr(l.traceState, `${path}.traceState`) || null,
    attributes: attributes(l.attributes, `${path}.attributes`),
  }
}

function attributes(value: unknown, path: string, depth = 0): Attributes {
  const attrs = newAttributes()
  list(value, path).forEach((kv, i) => {
    const at = `${path}[${i}]`
    const o = obj(kv, at)
    if (typeof o.key !== 'string') throw invalid(`${at}.key`, 'must be a string')
    addAttribute(attrs, o.key, anyValue(o.value, `${at}.value`, depth + 1))
  })
  return attrs
}

function anyValue(value: unknown, path: string, depth: number): Value {
  if (depth > MAX_VALUE_DEPTH) throw invalid(path, `nested deeper than ${MAX_VALUE_DEPTH} values`)
  const v = optObj(value, path)
  if (v === null) return null
  if (v.stringValue != null) return str(v.stringValue, `${path}.stringValue`)
  if (v.boolValue != null) {
    if (typeof v.boolValue !== 'boolean') throw invalid(`${path}.boolValue`, 'must be a boolean')
    return v.boolValue
  }
  if (v.intValue != null) {
    // A JSON number beyond int64 (the JS exporter sends 1e20 as an intValue) is kept as the number it is.
    if (typeof v.intValue === 'number' && !(Number.isInteger(v.intValue) && v.intValue >= -(2 ** 63) && v.intValue < 2 ** 63)) return v.intValue
    const n = int64(v.intValue, `${path}.intValue`, true)
    return n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER ? Number(n) : String(n)
  }
  if (v.doubleValue != null) return double(v.doubleValue, `${path}.doubleValue`)
  if (v.arrayValue != null) {
    const values = optObj(v.arrayValue, `${path}.arrayValue`)?.values
    return list(values, `${path}.arrayValue.values`).map((item, i) => anyValue(item, `${path}.arrayValue.values[${i}]`, depth + 1))
  }
  if (v.kvlistValue != null) return attributes(optObj(v.kvlistValue, `${path}.kvlistValue`)?.values, `${path}.kvlistValue.values`, depth)
  if (v.bytesValue != null) return str(v.bytesValue, `${path}.bytesValue`)
  return null
}

/** Hex ids (OTLP/JSON's exception to proto3 base64); null when absent or empty, a 1-byte (invalid) id when not hex. */
function id(value: unknown, path: string): Buffer | null {
  if (value == null || value === '') return null
  const text = str(value, path)
  return text.length % 2 === 0 && HEX.test(text) ? Buffer.from(text, 'hex') : Buffer.alloc(1)
}

const INT_TEXT = /^-?\d{1,20}$/

function int64(value: unknown, path: string, signed = false): bigint {
  if (value == null) return 0n
  let n: bigint | null = null
  if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value)
  else if (typeof value === 'string' && INT_TEXT.test(value)) n = BigInt(value)
  const min = signed ? -MAX_INT64 - 1n : 0n
  if (n === null || n < min || n > MAX_INT64) throw invalid(path, `must be an integer from ${min} to ${MAX_INT64}, as a number or a decimal string`)
  return n
}

function uint32(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return value
  throw invalid(path, 'must be an unsigned 32-bit integer')
}

function double(value: unknown, path: string): number | string {
  if (typeof value === 'number') return value
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return value
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return finite(Number(value))
  throw invalid(path, 'must be a number')
}

function enumOf(value: unknown, names: string[], path: string): number {
  if (value == null) return 0
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x8000_0000 && value <= 0x7fff_ffff) return value
  if (typeof value === 'string' && names.includes(value)) return names.indexOf(value)
  throw invalid(path, `must be an integer or one of ${names.join(', ')}`)
}

function list(value: unknown, path: string): unknown[] {
  if (value == null) return []
  if (!Array.isArray(value)) throw invalid(path, 'must be an array')
  return value
}

function obj(value: unknown, path: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(path, 'must be an object')
  return value as Obj
}

function optObj(value: unknown, path: string): Obj | null {
  return value == null ? null : obj(value, path)
}

function str(value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalid(path, 'must be a string')
  return value
}

function optStr(value: unknown, path: string): string | null {
  return value == null ? null : str(value, path)
}

function invalid(path: string, message: string) {
  return validationError([{ path, message }], 'Invalid OTLP JSON payload')
}
