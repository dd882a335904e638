// The decoded form of an OTLP span, shared by the JSON and protobuf decoders, ready for one INSERT.

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

const LINK_KEYS = ['docket.run_id', 'nulltickets.run_id', 'docket.task_id', 'nulltickets.task_id']

/**
 * Attributes written straight to JSON text (`{"key":value,…}`, AnyValues unwrapped, in wire order), while the
 * linking attributes are picked up on the way: no object is built and nothing is stringified twice.
 * Of duplicate keys (which OTLP forbids) the first wins.
 */
export class AttributeWriter {
  private text = ''
  private keys: string[] = []
  private keySet: Set<string> | null = null
  /** Linking values by LINK_KEYS position, first occurrence each. */
  readonly links: Array<string | null> = [null, null, null, null]

  /** `json` is the value's JSON text. */
  add(key: string, json: string): void {
    if (this.isDuplicate(key)) return
    this.text += `${this.text === '' ? '' : ','}${jsonString(key)}:${json}`
    const at = LINK_KEYS.indexOf(key)
    if (at >= 0) this.links[at] = linkText(json)
  }

  json(): string {
    return `{${this.text}}`
  }

  private isDuplicate(key: string): boolean {
    // A linear scan beats a Set for the handful of attributes a span usually has.
    if (this.keySet === null) {
      if (this.keys.includes(key)) return true
      this.keys.push(key)
      if (this.keys.length > 32) this.keySet = new Set(this.keys)
      return false
    }
    if (this.keySet.has(key)) return true
    this.keySet.add(key)
    return false
  }
}

/** A linking value as text: strings as they are, numbers and booleans as written, anything else ignored. */
function linkText(json: string): string | null {
  const c = json.charCodeAt(0)
  if (c === 0x22) return JSON.parse(json) as string // '"'
  return c === 0x5b || c === 0x7b || json === 'null' ? null : json // '[', '{'
}

/** docket.* before nulltickets.*, the span's own attribute before its resource's. */
export function linkedIds(span: AttributeWriter, resource: AttributeWriter): { runId: string | null; taskId: string | null } {
  const s = span.links
  const r = resource.links
  return { runId: s[0] ?? s[1] ?? r[0] ?? r[1], taskId: s[2] ?? s[3] ?? r[2] ?? r[3] }
}

/** JSON text of a string (JSON.stringify escapes what must be escaped). */
export const jsonString = JSON.stringify as (s: string) => string

/** JSON has no NaN or Infinity: they are kept as the strings proto3 JSON uses for them. */
export function doubleJson(n: number): string {
  return Number.isFinite(n) ? String(n) : `"${n}"`
}

/** An int64: exact within 2^53 as a number, beyond as a decimal string (JSON readers would round it). */
export function int64Json(n: bigint): string {
  return n >= -0x1f_ffff_ffff_ffffn && n <= 0x1f_ffff_ffff_ffffn ? String(n) : `"${n}"`
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
