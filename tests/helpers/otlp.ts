// OpenTelemetry SDK spans and the official OTLP exporters, pointed at a test server.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, diag, DiagLogLevel, trace, type Attributes } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'

export type Protocol = 'json' | 'protobuf'

/** Warnings and errors the OpenTelemetry libraries log (e.g. "response body does not decode"). */
export const diagMessages: string[] = []
const record = (...args: unknown[]) => diagMessages.push(args.map(String).join(' '))
diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN)

/**
 * A finished trace from a real TracerProvider: a server root span with a child client span that fails,
 * with an event. `resource` and the child's `attributes` carry whatever linking attributes the test wants.
 */
export function makeTrace(resource: Attributes, childAttributes: Attributes, childCount = 1): ReadableSpan[] {
  const memory = new InMemorySpanExporter()
  const provider = new TracerProvider({ resource: resourceFromAttributes(resource), spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] })
  const tracer = provider.getTracer('docket-tests', '1.2.3')
  const root = tracer.startSpan('handle request', { kind: SpanKind.SERVER, attributes: { 'http.method': 'POST' } })
  const parent = trace.setSpan(ROOT_CONTEXT, root)
  for (let i = 0; i < childCount; i++) {
    const child = tracer.startSpan(`call tool ${i}`, { kind: SpanKind.CLIENT, attributes: childAttributes }, parent)
    child.addEvent('retrying', { attempt: 2 })
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'tool failed' })
    child.end()
  }
  root.end()
  return memory.getFinishedSpans()
}

export function exporterFor(url: string, protocol: Protocol, compression: 'gzip' | 'none' = 'none', path = '/v1/traces', headers: Record<string, string> = {}) {
  const config = { url: url + path, compression: compression as never, headers }
  return protocol === 'json' ? new JsonExporter(config) : new ProtoExporter(config)
}

/** Exports through the official exporter; resolves with its ExportResult (code 0 = SUCCESS). */
export function exportSpans(exporter: ReturnType<typeof exporterFor>, spans: ReadableSpan[]): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(spans, resolve))
}

export type SpanFields = {
  traceId?: string
  spanId?: string
  parentSpanId?: string
  name?: string
  kind?: SpanKind
  attributes?: Attributes
  resource?: Attributes
  startTime?: [number, number]
  scope?: { name: string; version?: string }
}

let nextSpan = 1
// One object: the protobuf serializer groups spans by scope identity.
const DEFAULT_SCOPE = { name: 'edge-cases' }

/** A ReadableSpan built field by field, for payloads the SDK would never produce (edge cases). */
export function readableSpan(f: SpanFields = {}): ReadableSpan {
  const n = nextSpan++
  const traceId = f.traceId ?? n.toString(16).padStart(28, '0') + 'abcd'
  const spanId = f.spanId ?? n.toString(16).padStart(16, '0')
  const startTime = f.startTime ?? [1_700_000_000, 123]
  return {
    name: f.name ?? `span-${n}`,
    kind: f.kind ?? SpanKind.INTERNAL,
    spanContext: () => ({ traceId, spanId, traceFlags: 1 }),
    parentSpanContext: f.parentSpanId === undefined ? undefined : { traceId, spanId: f.parentSpanId, traceFlags: 1 },
    startTime,
    endTime: [startTime[0] + 1, startTime[1]],
    status: { code: SpanStatusCode.UNSET },
    attributes: f.attributes ?? {},
    links: [],
    events: [],
    duration: [1, 0],
    ended: true,
    resource: resourceFor(f.resource ?? { 'service.name': 'edge' }),
    instrumentationScope: f.scope ?? DEFAULT_SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  } as ReadableSpan
}

// One Resource object per attribute set: the serializers group spans by Resource identity.
const resources = new Map<string, ReturnType<typeof resourceFromAttributes>>()
function resourceFor(attrs: Attributes) {
  const key = JSON.stringify(attrs)
  let r = resources.get(key)
  if (r === undefined) resources.set(key, (r = resourceFromAttributes(attrs)))
  return r
}
