// OTLP/JSON (proto3 JSON with hex ids, https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding) → spans.
// Unknown fields are ignored; int64 fields may be numbers or decimal strings; enums numbers or names.
// A value of the wrong JSON type is a 400 naming its path; a span without valid ids is rejected alone.
// Paths are built only for the error message: `at` is the parent's path, the field is named separately.
import { validationError } from '../domain/errors.ts'
import {
  AttributeWriter, doubleJson, int64Json, jsonString, linkedIds, MAX_INT64, MAX_VALUE_DEPTH, REJECT_IDS, Rejections,
  SPAN_ID_BYTES, TRACE_ID_BYTES, type DecodedSpans, type Span,
} from './span.ts'

type Obj = Record<string, unknown>
type Scope = { name: string | null; version: string | null }
type Resource = { attributes: AttributeWriter; json: string }

const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER']
const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR']
const HEX = /^[0-9a-fA-F]*$/
const INT_TEXT = /^-?\d{1,20}$/
const NO_ID = Buffer.alloc(0)

/** `request` is the parsed body, already known to be a JSON object. */
export function decodeJson(request: Obj): DecodedSpans {
  const spans: Span[] = []
  const rejections = new Rejections()
  list(request.resourceSpans, '', 'resourceSpans').forEach((rs, i) => {
    const at = `resourceSpans[${i}]`
    const resourceSpans = obj(rs, at, '')
    const resourceObj = optObj(resourceSpans.resource, at, 'resource')
    const attributes = attributesOf(resourceObj?.attributes, `${at}.resource`, 'attributes', 0)
    const resource: Resource = { attributes, json: attributes.json() }
    // Both are read when both are present, as nullTickets does (instrumentationLibrarySpans is the pre-1.0 name).
    for (const field of ['scopeSpans', 'instrumentationLibrarySpans']) {
      list(resourceSpans[field], at, field).forEach((ss, j) => {
        const ssAt = `${at}.${field}[${j}]`
        const scopeSpans = obj(ss, ssAt, '')
        const scopeField = 'scope' in scopeSpans ? 'scope' : 'instrumentationLibrary'
        const scopeObj = optObj(scopeSpans[scopeField], ssAt, scopeField)
        const scope: Scope = {
          name: optStr(scopeObj?.name, `${ssAt}.${scopeField}`, 'name') || null,
          version: optStr(scopeObj?.version, `${ssAt}.${scopeField}`, 'version') || null,
        }
        list(scopeSpans.spans, ssAt, 'spans').forEach((s, k) => {
          const span = spanOf(s, `${ssAt}.spans[${k}]`, scope, resource, rejections)
          if (span !== null) spans.push(span)
        })
      })
    }
  })
  return { spans, rejected: rejections.count, rejectReason: rejections.reason }
}

function spanOf(value: unknown, at: string, scope: Scope, resource: Resource, rejections: Rejections): Span | null {
  const s = obj(value, at, '')
  const traceId = id(s.traceId, at, 'traceId')
  const spanId = id(s.spanId, at, 'spanId')
  const parentSpanId = id(s.parentSpanId, at, 'parentSpanId')
  const status = optObj(s.status, at, 'status')
  const attributes = attributesOf(s.attributes, at, 'attributes', 0)
  const events = list(s.events, at, 'events').map((e, i) => eventJson(e, `${at}.events[${i}]`))
  const links = list(s.links, at, 'links').map((l, i) => linkJson(l, `${at}.links[${i}]`))
  const span: Span = {
    traceId: traceId ?? NO_ID,
    spanId: spanId ?? NO_ID,
    parentSpanId: parentSpanId?.length ? parentSpanId : null,
    traceState: optStr(s.traceState, at, 'traceState') || null,
    name: optStr(s.name, at, 'name') ?? '',
    kind: enumOf(s.kind, SPAN_KINDS, at, 'kind'),
    startTimeUnixNano: int64(s.startTimeUnixNano, at, 'startTimeUnixNano', 0n),
    endTimeUnixNano: int64(s.endTimeUnixNano, at, 'endTimeUnixNano', 0n),
    statusCode: enumOf(status?.code, STATUS_CODES, `${at}.status`, 'code'),
    statusMessage: optStr(status?.message, `${at}.status`, 'message') || null,
    flags: uint32(s.flags, at, 'flags'),
    attributesJson: attributes.json(),
    resourceAttributesJson: resource.json,
    scopeName: scope.name,
    scopeVersion: scope.version,
    eventsJson: events.length === 0 ? null : `[${events.join(',')}]`,
    linksJson: links.length === 0 ? null : `[${links.join(',')}]`,
    ...linkedIds(attributes, resource.attributes),
  }
  if (span.traceId.length !== TRACE_ID_BYTES || span.spanId.length !== SPAN_ID_BYTES ||
    (parentSpanId !== null && parentSpanId.length !== 0 && parentSpanId.length !== SPAN_ID_BYTES)) {
    rejections.add(REJECT_IDS)
    return null
  }
  return span
}

function eventJson(value: unknown, at: string): string {
  const e = obj(value, at, '')
  return `{"time_unix_nano":"${int64(e.timeUnixNano, at, 'timeUnixNano', 0n)}",` +
    `"name":${jsonString(optStr(e.name, at, 'name') ?? '')},"attributes":${attributesOf(e.attributes, at, 'attributes', 0).json()}}`
}

function linkJson(value: unknown, at: string): string {
  const l = obj(value, at, '')
  const traceState = optStr(l.traceState, at, 'traceState') || null
  return `{"trace_id":${jsonString(optStr(l.traceId, at, 'traceId')?.toLowerCase() ?? '')},` +
    `"span_id":${jsonString(optStr(l.spanId, at, 'spanId')?.toLowerCase() ?? '')},` +
    `"trace_state":${traceState === null ? 'null' : jsonString(traceState)},"attributes":${attributesOf(l.attributes, at, 'attributes', 0).json()}}`
}

function attributesOf(value: unknown, at: string, field: string, depth: number): AttributeWriter {
  const writer = new AttributeWriter()
  const items = list(value, at, field)
  for (let i = 0; i < items.length; i++) {
    const kv = obj(items[i], `${at}.${field}[${i}]`, '')
    if (typeof kv.key !== 'string') throw invalid(`${at}.${field}[${i}]`, 'key', 'must be a string')
    writer.add(kv.key, anyValue(kv.value, `${at}.${field}[${i}]`, 'value', depth + 1))
  }
  return writer
}

/** An AnyValue as JSON text, unwrapped exactly as the protobuf decoder does. */
function anyValue(value: unknown, at: string, field: string, depth: number): string {
  const here = () => `${at}.${field}`
  if (depth > MAX_VALUE_DEPTH) throw invalid(at, field, `nested deeper than ${MAX_VALUE_DEPTH} values`)
  const v = optObj(value, at, field)
  if (v === null) return 'null'
  if (v.stringValue != null) return jsonString(str(v.stringValue, here(), 'stringValue'))
  if (v.boolValue != null) {
    if (typeof v.boolValue !== 'boolean') throw invalid(here(), 'boolValue', 'must be a boolean')
    return v.boolValue ? 'true' : 'false'
  }
  if (v.intValue != null) {
    // A JSON number beyond int64 (the JS exporter sends 1e20 as an intValue) is kept as the number it is.
    const n = v.intValue
    if (typeof n === 'number' && !(Number.isInteger(n) && n >= -(2 ** 63) && n < 2 ** 63)) return doubleJson(n)
    return int64Json(int64(n, here(), 'intValue', -MAX_INT64 - 1n))
  }
  if (v.doubleValue != null) return double(v.doubleValue, here())
  if (v.arrayValue != null) {
    const values = list(optObj(v.arrayValue, here(), 'arrayValue')?.values, `${here()}.arrayValue`, 'values')
    return `[${values.map((item, i) => anyValue(item, `${here()}.arrayValue`, `values[${i}]`, depth + 1)).join(',')}]`
  }
  if (v.kvlistValue != null) return attributesOf(optObj(v.kvlistValue, here(), 'kvlistValue')?.values, `${here()}.kvlistValue`, 'values', depth).json()
  if (v.bytesValue != null) return jsonString(str(v.bytesValue, here(), 'bytesValue'))
  return 'null'
}

/** Hex ids (OTLP/JSON's exception to proto3 base64): null when absent or empty, a 1-byte (invalid) id when not hex. */
function id(value: unknown, at: string, field: string): Buffer | null {
  if (value == null || value === '') return null
  const text = str(value, at, field)
  return text.length % 2 === 0 && HEX.test(text) ? Buffer.from(text, 'hex') : Buffer.alloc(1)
}

function int64(value: unknown, at: string, field: string, min: bigint): bigint {
  if (value == null) return 0n
  let n: bigint | null = null
  if (typeof value === 'number' && Number.isInteger(value)) n = BigInt(value)
  else if (typeof value === 'string' && INT_TEXT.test(value)) n = BigInt(value)
  if (n === null || n < min || n > MAX_INT64) {
    throw invalid(at, field, `must be an integer from ${min} to ${MAX_INT64}, as a number or a decimal string`)
  }
  return n
}

function uint32(value: unknown, at: string, field: string): number | null {
  if (value == null) return null
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return value
  throw invalid(at, field, 'must be an unsigned 32-bit integer')
}

function double(value: unknown, at: string): string {
  if (typeof value === 'number') return doubleJson(value)
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return `"${value}"`
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return doubleJson(Number(value))
  throw invalid(at, 'doubleValue', 'must be a number')
}

function enumOf(value: unknown, names: string[], at: string, field: string): number {
  if (value == null) return 0
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x8000_0000 && value <= 0x7fff_ffff) return value
  if (typeof value === 'string' && names.includes(value)) return names.indexOf(value)
  throw invalid(at, field, `must be an integer or one of ${names.join(', ')}`)
}

function list(value: unknown, at: string, field: string): unknown[] {
  if (value == null) return []
  if (!Array.isArray(value)) throw invalid(at, field, 'must be an array')
  return value
}

function obj(value: unknown, at: string, field: string): Obj {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(at, field, 'must be an object')
  return value as Obj
}

function optObj(value: unknown, at: string, field: string): Obj | null {
  return value == null ? null : obj(value, at, field)
}

function str(value: unknown, at: string, field: string): string {
  if (typeof value !== 'string') throw invalid(at, field, 'must be a string')
  return value
}

function optStr(value: unknown, at: string, field: string): string | null {
  return value == null ? null : str(value, at, field)
}

function invalid(at: string, field: string, message: string) {
  const path = field === '' ? at : at === '' ? field : `${at}.${field}`
  return validationError([{ path, message }], 'Invalid OTLP JSON payload')
}
