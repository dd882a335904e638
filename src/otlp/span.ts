// The decoded form of an OTLP span, shared by the JSON and protobuf decoders, ready for one INSERT.

/** An attribute value with its OTLP AnyValue wrapper removed (int64 beyond 2^53 as a decimal string). */
export type Value = string | number | boolean | null | Value[] | { [key: string]: Value }
export type Attributes = { [key: string]: Value }

export type Span = {
  traceId: Buffer
  spanId: Buffer
  parentSpanId: Buffer | null
  traceState: string | null
  name: string
  kind: number
  startTimeUnixNano: bigint
  endTimeUnixNano: bigint
  statusCode: number
  statusMessage: string | null
  flags: number | null
  attributesJson: string
  /** The same string for every span of one resource: serialized once per resource. */
  resourceAttributesJson: string
  scopeName: string | null
  scopeVersion: string | null
  /** null when the span has none (the common case costs nothing). */
  eventsJson: string | null
  linksJson: string | null
  runId: string | null
  taskId: string | null
}

export type DecodedSpans = { spans: Span[]; rejected: number; rejectReason: string | null }

export const TRACE_ID_BYTES = 16
export const SPAN_ID_BYTES = 8
/** Timestamps are stored in SQLite INTEGER columns; a fixed64 above this cannot be. */
export const MAX_INT64 = 0x7fff_ffff_ffff_ffffn
/** Deeper AnyValue nesting is refused: it would only be an attack on the decoder's stack. */
export const MAX_VALUE_DEPTH = 32

export const REJECT_IDS = 'trace_id must be 16 bytes and span_id 8 bytes (parent_span_id empty or 8 bytes)'
export const REJECT_TIME = 'timestamps must fit a signed 64-bit integer'

/** An object for attributes: no prototype, so a key like "__proto__" is an ordinary key. */
export function newAttributes(): Attributes {
  return Object.create(null) as Attributes
}

/** Adds a key unless already present: the first of duplicate keys wins, as for nullTickets' run_id lookup. */
export function addAttribute(attrs: Attributes, key: string, value: Value): void {
  if (!(key in attrs)) attrs[key] = value
}

/** A link attribute as an id: strings as they are, numbers and booleans as text, anything else ignored. */
function idOf(value: Value | undefined): string | null {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return null
}

/** docket.* before nulltickets.*, the span's own attribute before its resource's. */
export function linkedId(span: Attributes, resource: Attributes, name: 'run_id' | 'task_id'): string | null {
  return idOf(span[`docket.${name}`]) ?? idOf(span[`nulltickets.${name}`]) ??
    idOf(resource[`docket.${name}`]) ?? idOf(resource[`nulltickets.${name}`])
}

/** Tallies rejected spans; the first reason is the one reported in partial_success. */
export class Rejections {
  count = 0
  reason: string | null = null

  add(reason: string): void {
    this.count += 1
    this.reason ??= reason
  }
}
