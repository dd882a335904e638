import { get, post, type Handler, type Input, type Route } from '../route.ts'
import { queryLimit } from '../validate.ts'
import { binary, json, rawJson, type AnyReply } from '../reply.ts'
import { pageJson, parseIdCursor } from '../pagination.ts'
import { ndjsonReply, wantsNdjson } from '../ndjson.ts'
import { validationError } from '../../domain/errors.ts'
import { decodeRequest, PROTOBUF_TYPE } from '../../otlp/decode.ts'
import { exportTraceServiceResponse, INVALID_ARGUMENT, rpcStatus } from '../../otlp/response.ts'
import type { SpanRow } from '../../store/types.ts'

type IngestAnswer = {
  batch_id: number
  accepted_spans: number
  stored: 'json' | 'protobuf' | 'blob'
  /** OTLP/JSON's ExportTraceServiceResponse field, present only when spans were rejected. */
  partialSuccess?: { rejectedSpans: string; errorMessage: string }
  /** Why a protobuf body did not decode: recorded with the answer, never sent (it is answered 400). */
  invalid?: string
}

/**
 * The answer is built as JSON inside the transaction (so an Idempotency-Key replay has it too), then turned
 * into a protobuf ExportTraceServiceResponse for a decoded protobuf request: exporters decode the body in
 * the format they sent and warn otherwise. Protobuf that does not decode is kept as a blob, as nullTickets
 * keeps it, but OTLP/HTTP says bad data is a 400 with a protobuf google.rpc.Status (exporters then drop the
 * export rather than retry it): that answer is a BinaryReply, not an AppError, as the JSON envelope
 * would not decode as a Status.
 */
const ingest: Handler = async (input, app) => {
  const decoded = await decodeRequest(input.body ?? Buffer.alloc(0), input.headers, app.config.maxBodyBytes)
  const reply = decoded.stored === 'blob'
    ? await app.commit(input, (c) => c.storeBlob(decoded.contentType, decoded.blob, app.clock.now()), (batchId) => {
      const answer: IngestAnswer = { batch_id: batchId, accepted_spans: 0, stored: 'blob' }
      if (decoded.invalid !== null) answer.invalid = decoded.invalid
      return json(200, answer)
    })
    : await app.commit(input, (c) => c.ingestSpans(decoded.stored, decoded.contentType, decoded.result, app.clock.now()), (batchId) => {
      const { result } = decoded
      const answer: IngestAnswer = { batch_id: batchId, accepted_spans: result.spans.length, stored: decoded.stored }
      app.metrics.spansAccepted.inc(result.spans.length)
      if (result.rejected > 0) answer.partialSuccess = { rejectedSpans: String(result.rejected), errorMessage: result.rejectReason ?? '' }
      return json(200, answer)
    })
  if (decoded.stored === 'json' || reply.status !== 200) return reply
  const answer = JSON.parse(reply.body!) as IngestAnswer
  if (answer.invalid !== undefined) {
    const message = `Body is not a valid OTLP ExportTraceServiceRequest (${answer.invalid}); kept as blob batch ${answer.batch_id}`
    return binary(400, rpcStatus(INVALID_ARGUMENT, message), PROTOBUF_TYPE)
  }
  if (decoded.stored === 'blob' || wantsJson(input.headers.get('accept'))) return reply
  const partial = answer.partialSuccess
  return binary(200, exportTraceServiceResponse(Number(partial?.rejectedSpans ?? 0), partial?.errorMessage ?? null), PROTOBUF_TYPE)
}

/** JSON only when asked for and protobuf is not also accepted (the exporters send no Accept at all). */
function wantsJson(accept: string | null): boolean {
  if (accept === null) return false
  const a = accept.toLowerCase()
  return a.includes('application/json') && !a.includes('protobuf')
}

const TRACE_ID = /^[0-9a-fA-F]{32}$/

const hex = (b: Buffer | null) => (b === null ? 'null' : `"${b.toString('hex')}"`)
const s = JSON.stringify

/** Stored JSON columns are spliced in as they are: they were produced by JSON.stringify at ingest. */
function spanJson(r: SpanRow): string {
  return `{"trace_id":${hex(r.trace_id)},"span_id":${hex(r.span_id)},"parent_span_id":${hex(r.parent_span_id)},` +
    `"name":${s(r.name)},"kind":${r.kind},"start_time_unix_nano":"${r.start_time_unix_nano}",` +
    `"end_time_unix_nano":"${r.end_time_unix_nano}","status_code":${r.status_code},"status_message":${s(r.status_message)},` +
    `"attributes":${r.attributes_json},"resource_attributes":${r.resource_attributes_json},` +
    `"scope_name":${s(r.scope_name)},"scope_version":${s(r.scope_version)},"run_id":${s(r.run_id)},"task_id":${s(r.task_id)},` +
    `"trace_state":${s(r.trace_state)},"flags":${r.flags},"events":${r.events_json ?? '[]'},"links":${r.links_json ?? '[]'}}`
}

async function listSpans(input: Input, app: Parameters<Handler>[1]): Promise<AnyReply> {
  const { query } = input
  const traceId = query.trace_id
  if (traceId !== undefined && !TRACE_ID.test(traceId)) {
    throw validationError([{ path: 'query.trace_id', message: 'must be 32 hexadecimal characters' }])
  }
  const filter = { runId: query.run_id, taskId: query.task_id, traceId: traceId === undefined ? undefined : Buffer.from(traceId, 'hex') }
  const after = parseIdCursor(query.cursor) ?? 0
  if (wantsNdjson(input.headers)) {
    const read = (cursor: number | null, limit: number) => app.driver.reads.spans({ ...filter, afterId: cursor ?? 0, limit })
    return ndjsonReply({ read, cursorOf: (r) => r.id, lineOf: spanJson }, after, app)
  }
  const limit = queryLimit(query, 100)
  const rows = await app.driver.reads.spans({ ...filter, afterId: after, limit })
  return rawJson(200, pageJson(rows, limit, spanJson, (r) => String(r.id)))
}

export const otlpRoutes: Route[] = [
  post('/v1/traces', ingest),
  post('/otlp/v1/traces', ingest),
  get('/spans', (input, app) => listSpans(input, app)),
]
