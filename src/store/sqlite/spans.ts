import type { Db } from './db.ts'
import type { DecodedSpans } from '../../otlp/span.ts'
import type { SpanFilter, SpanRow } from '../types.ts'

export type SpanStore = ReturnType<typeof createSpanStore>

const COLUMNS = `s.id, trace_id, span_id, parent_span_id, trace_state, name, kind,
  CAST(start_time_unix_nano AS TEXT) AS start_time_unix_nano, CAST(end_time_unix_nano AS TEXT) AS end_time_unix_nano,
  status_code, status_message, flags, s.attributes_json, r.attributes_json AS resource_attributes_json, scope_name,
  scope_version, events_json, links_json, run_id, task_id`

export function createSpanStore(db: Db) {
  const insertBatch = db.prepare(`
    INSERT INTO otlp_batches (received_at_ms, content_type, stored, accepted_spans, rejected_spans, payload_blob)
    VALUES (?, ?, ?, ?, ?, ?)`)
  const resourceIdOf = db.prepare<[string], number>('SELECT id FROM otlp_resources WHERE attributes_json = ?').pluck()
  const insertResource = db.prepare('INSERT INTO otlp_resources (attributes_json) VALUES (?)')
  // Positional parameters: binding 20 values per span by name costs more than the insert itself.
  const insertSpan = db.prepare(`
    INSERT INTO spans (batch_id, trace_id, span_id, parent_span_id, trace_state, name, kind, start_time_unix_nano,
      end_time_unix_nano, status_code, status_message, flags, attributes_json, resource_id, scope_name,
      scope_version, events_json, links_json, run_id, task_id)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)

  const resourceId = (json: string) => resourceIdOf.get(json) ?? Number(insertResource.run(json).lastInsertRowid)
  const countOfRun = db.prepare<[string], number>('SELECT count(*) FROM spans WHERE run_id = ?').pluck()

  // One statement per filter combination, prepared on first use.
  const listStmts = new Map<string, ReturnType<typeof db.prepare<Record<string, unknown>, SpanRow>>>()
  const listStmt = (f: SpanFilter) => {
    const key = `${f.runId !== undefined}${f.taskId !== undefined}${f.traceId !== undefined}`
    let stmt = listStmts.get(key)
    if (stmt === undefined) {
      const conds = ['s.id > +@after_id']
      if (f.runId !== undefined) conds.push('run_id = +@run_id')
      if (f.taskId !== undefined) conds.push('task_id = +@task_id')
      if (f.traceId !== undefined) conds.push('trace_id = +@trace_id')
      stmt = db.prepare(`SELECT ${COLUMNS} FROM spans s JOIN otlp_resources r ON r.id = s.resource_id
        WHERE ${conds.join(' AND ')} ORDER BY s.id LIMIT +@limit`)
      listStmts.set(key, stmt)
    }
    return stmt
  }

  return {
    /** Stores a decoded request: its batch row and every accepted span. The caller's transaction holds them. */
    ingest(stored: 'json' | 'protobuf', contentType: string, decoded: DecodedSpans, nowMs: number): number {
      const batchId = Number(insertBatch.run(nowMs, contentType, stored, decoded.spans.length, decoded.rejected, null).lastInsertRowid)
      // Spans of one resource share one string, so this looks each resource up once per request.
      let lastJson = ''
      let lastId = 0
      for (const s of decoded.spans) {
        if (s.resourceAttributesJson !== lastJson) {
          lastJson = s.resourceAttributesJson
          lastId = resourceId(lastJson)
        }
        insertSpan.run(batchId, s.traceId, s.spanId, s.parentSpanId, s.traceState, s.name, s.kind, s.startTimeUnixNano,
          s.endTimeUnixNano, s.statusCode, s.statusMessage, s.flags, s.attributesJson, lastId,
          s.scopeName, s.scopeVersion, s.eventsJson, s.linksJson, s.runId, s.taskId)
      }
      return batchId
    },

    /** Keeps a body that could not be decoded, as it came (after Content-Encoding was undone). */
    storeBlob(contentType: string, blob: Buffer, nowMs: number): number {
      return Number(insertBatch.run(nowMs, contentType, 'blob', 0, 0, blob).lastInsertRowid)
    },

    /** limit + 1 rows after `afterId`, in arrival order (see pageJson). */
    list(f: SpanFilter): SpanRow[] {
      const params: Record<string, unknown> = { after_id: f.afterId, limit: f.limit + 1 }
      if (f.runId !== undefined) params.run_id = f.runId
      if (f.taskId !== undefined) params.task_id = f.taskId
      if (f.traceId !== undefined) params.trace_id = f.traceId
      return listStmt(f).all(params)
    },

    /** For GET /runs/{id}: the spans that name the run (by attribute), whether or not they came before it. */
    spanCountOfRun(runId: string): number {
      return countOfRun.get(runId)!
    },
  }
}
