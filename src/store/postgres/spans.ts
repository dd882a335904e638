// OTLP spans and undecoded blobs. (PostgreSQL driver)
import type pg from 'pg'
import type { Tx } from './tx.ts'
import type { PgContext, TxChanges } from './context.ts'
import { statement, type Statement } from './sql.ts'
import type { Reads } from '../driver.ts'
import type { DecodedSpans, Span } from '../../otlp/span.ts'
import type { SpanFilter, SpanRow } from '../types.ts'

const insertBatch = statement<{ id: number }>('spans_insert_batch', `
  INSERT INTO otlp_batches (received_at_ms, content_type, stored, accepted_spans, rejected_spans, payload_blob)
  VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`)
// Two nodes storing the same set at once meet on the UNIQUE hash: one waits for the other's commit and
// inserts nothing, then reads its row in a second statement (under READ COMMITTED each statement sees what
// was committed before it began). Sets are inserted in one order, so two such waits cannot deadlock.
const insertResources = statement('spans_insert_resources', `
  INSERT INTO otlp_resources (attributes_json) SELECT unnest($1::text[]) ON CONFLICT (attributes_hash) DO NOTHING`)
const resourceIds = statement<{ id: number; attributes_json: string }>('spans_resource_ids', `
  SELECT r.id, r.attributes_json FROM unnest($1::text[]) a (json)
  JOIN otlp_resources r ON r.attributes_hash = docket_sha256(a.json) AND r.attributes_json = a.json`)
// Every span of a request in one statement, one array per column, in request order (ids follow it).
// Nanoseconds are bound as text: they pass 2^53.
const insertSpans = statement('spans_insert', `
  INSERT INTO spans (batch_id, trace_id, span_id, parent_span_id, trace_state, name, kind, start_time_unix_nano,
    end_time_unix_nano, status_code, status_message, flags, attributes_json, resource_id, scope_name,
    scope_version, events_json, links_json, run_id, task_id)
  SELECT $1, u.* FROM unnest($2::bytea[], $3::bytea[], $4::bytea[], $5::text[], $6::text[], $7::int[], $8::bigint[],
    $9::bigint[], $10::int[], $11::text[], $12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::text[],
    $17::text[], $18::text[], $19::text[], $20::text[]) u`)
const countOfRun = statement<{ n: number }>('spans_count_of_run', 'SELECT count(*) AS n FROM spans WHERE run_id = $1')

const COLUMNS = `s.id, trace_id, span_id, parent_span_id, trace_state, name, kind,
  start_time_unix_nano::text AS start_time_unix_nano, end_time_unix_nano::text AS end_time_unix_nano,
  status_code, status_message, flags, s.attributes_json, r.attributes_json AS resource_attributes_json, scope_name,
  scope_version, events_json, links_json, run_id, task_id`

// One statement per filter combination (run, task, trace), each matching one of the spans_by_* indexes:
// $1 after id, $2 limit, then the filters given, in that order.
const FILTERS = [['run', 'run_id'], ['task', 'task_id'], ['trace', 'trace_id']] as const
const lists = new Map<string, Statement<SpanRow>>()
for (let mask = 0; mask < 8; mask++) {
  const used = FILTERS.filter((_, i) => mask & (1 << i))
  const conds = ['s.id > $1', ...used.map(([, col], i) => `${col} = $${i + 3}`)]
  lists.set(used.map(([name]) => name).join(), statement<SpanRow>(`spans_list_${mask}`, `
    SELECT ${COLUMNS} FROM spans s JOIN otlp_resources r ON r.id = s.resource_id
    WHERE ${conds.join(' AND ')} ORDER BY s.id LIMIT $2`))
}

export function spansChanges(ctx: PgContext): Pick<TxChanges, 'ingestSpans' | 'storeBlob'> {
  void ctx
  return {
    /** Its batch row, every distinct resource once, then every accepted span: four round trips. */
    async ingestSpans(tx, stored, contentType, decoded, nowMs) {
      const batch = await insertBatch.one(tx, [nowMs, contentType, stored, decoded.spans.length, decoded.rejected, null])
      if (decoded.spans.length > 0) await insertAll(tx, batch!.id, decoded)
      return batch!.id
    },
    async storeBlob(tx, contentType, blob, nowMs) {
      return (await insertBatch.one(tx, [nowMs, contentType, 'blob', 0, 0, blob]))!.id
    },
  }
}

async function insertAll(tx: Tx, batchId: number, decoded: DecodedSpans): Promise<void> {
  // Spans of one resource share one string: the distinct ones are few.
  const resources = [...new Set(decoded.spans.map((s) => s.resourceAttributesJson))].sort()
  await insertResources.run(tx, [resources])
  const ids = new Map((await resourceIds.all(tx, [resources])).map((r) => [r.attributes_json, r.id]))
  const column = <T>(f: (s: Span) => T) => decoded.spans.map(f)
  await insertSpans.run(tx, [
    batchId, column((s) => s.traceId), column((s) => s.spanId), column((s) => s.parentSpanId), column((s) => s.traceState),
    column((s) => s.name), column((s) => s.kind), column((s) => s.startTimeUnixNano.toString()),
    column((s) => s.endTimeUnixNano.toString()), column((s) => s.statusCode), column((s) => s.statusMessage),
    column((s) => s.flags), column((s) => s.attributesJson), column((s) => ids.get(s.resourceAttributesJson)),
    column((s) => s.scopeName), column((s) => s.scopeVersion), column((s) => s.eventsJson), column((s) => s.linksJson),
    column((s) => s.runId), column((s) => s.taskId),
  ])
}

export function spansReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'spans' | 'spanCountOfRun'> {
  void ctx
  return {
    /** limit + 1 rows after `afterId`, in arrival order. */
    spans(f: SpanFilter) {
      const given = { run: f.runId, task: f.taskId, trace: f.traceId }
      const used = FILTERS.filter(([name]) => given[name] !== undefined).map(([name]) => name)
      return lists.get(used.join())!.all(pool, [f.afterId, f.limit + 1, ...used.map((name) => given[name])])
    },
    spanCountOfRun: async (runId) => (await countOfRun.one(pool, [runId]))!.n,
  }
}
