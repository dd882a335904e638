// Moving up: a SQLite database copied into an empty PostgreSQL one, every table with its ids and times, live
// leases with their hashed tokens (agents that hold them keep working after the switch). The source is read
// in one read transaction (one consistent snapshot, even while a server writes to it); the target is
// written in one transaction, so a copy that fails leaves it empty.
import type Database from 'better-sqlite3'
import type pg from 'pg'
import { recentVector, searchVector } from './postgres/search-vector.ts'

/**
 * The tables in foreign-key order, with the columns both schemas share. Left out: generated columns
 * (PostgreSQL computes path_hash and attributes_hash), stage_counts (PostgreSQL's triggers count the tasks
 * as they are inserted), and SQLite's FTS indexes (PostgreSQL's is a column the driver computes: `derived`).
 * `order` is the SQLite expression rows are read in; `as` maps a SQLite column to the one PostgreSQL keeps.
 */
export const TABLES: Array<{
  name: string; columns: string[]; order: string; booleans?: string[]; as?: Record<string, string>; identity?: string
  /** A PostgreSQL-only column the driver writes, computed from the row as read. */
  derived?: { column: string; from(row: unknown[]): unknown }
}> = [
  { name: 'pipelines', columns: ['id', 'name', 'definition_json', 'paused', 'created_at_ms'], order: 'created_at_ms, id', booleans: ['paused'] },
  { name: 'stage_roles', columns: ['agent_role', 'pipeline_id', 'stage'], order: 'agent_role, pipeline_id, stage' },
  {
    name: 'tasks', order: 'created_at_ms, id',
    columns: ['id', 'pipeline_id', 'stage', 'title', 'description', 'priority', 'metadata_json', 'task_version', 'next_eligible_at_ms',
      'max_attempts', 'retry_delay_ms', 'dead_letter_stage', 'dead_letter_reason', 'failed_attempts', 'open_dependencies', 'assignee',
      'active_run_id', 'created_at_ms', 'updated_at_ms'],
  },
  {
    name: 'runs', order: 'started_at_ms, id',
    columns: ['id', 'task_id', 'attempt', 'status', 'agent_id', 'agent_role', 'started_at_ms', 'ended_at_ms', 'usage_json', 'error_text',
      'lease_token_hash', 'lease_ttl_ms', 'lease_expires_at_ms', 'last_heartbeat_ms'],
  },
  { name: 'events', columns: ['id', 'run_id', 'ts_ms', 'kind', 'data_json'], order: 'id', identity: 'id' },
  { name: 'task_events', columns: ['id', 'task_id', 'ts_ms', 'kind', 'data_json'], order: 'id', identity: 'id' },
  // SQLite's rowid is their list order; PostgreSQL keeps it as seq.
  { name: 'task_dependencies', columns: ['rowid', 'task_id', 'depends_on_task_id', 'created_at_ms'], order: 'rowid', as: { rowid: 'seq' }, identity: 'seq' },
  {
    name: 'task_assignments', order: 'rowid', as: { rowid: 'seq' }, identity: 'seq', booleans: ['active'],
    columns: ['rowid', 'task_id', 'agent_id', 'assigned_by', 'active', 'created_at_ms', 'updated_at_ms'],
  },
  {
    name: 'artifacts', order: 'created_at_ms, id',
    columns: ['id', 'task_id', 'run_id', 'created_at_ms', 'kind', 'uri', 'sha256', 'size_bytes', 'meta_json'],
  },
  {
    name: 'idempotency_keys', order: 'key, method, path',
    columns: ['key', 'method', 'path', 'request_hash', 'status', 'body', 'created_at_ms'],
  },
  {
    name: 'otlp_batches', order: 'id', identity: 'id',
    columns: ['id', 'received_at_ms', 'content_type', 'stored', 'accepted_spans', 'rejected_spans', 'payload_blob'],
  },
  { name: 'otlp_resources', columns: ['id', 'attributes_json'], order: 'id', identity: 'id' },
  {
    name: 'spans', order: 'id', identity: 'id',
    columns: ['id', 'batch_id', 'trace_id', 'span_id', 'parent_span_id', 'trace_state', 'name', 'kind', 'start_time_unix_nano',
      'end_time_unix_nano', 'status_code', 'status_message', 'flags', 'attributes_json', 'resource_id', 'scope_name', 'scope_version',
      'events_json', 'links_json', 'run_id', 'task_id'],
  },
  {
    name: 'store', columns: ['id', 'namespace', 'key', 'value_json', 'created_at_ms', 'updated_at_ms'], order: 'id', identity: 'id',
    derived: {
      column: 'search',
      from: ([id, ns, key, valueJson]) => `${searchVector(ns as string, key as string, valueJson as string)} ${recentVector(BigInt(id as string))}`,
    },
  },
  {
    name: 'schedules', order: 'name', booleans: ['paused'],
    columns: ['name', 'spec_json', 'paused', 'anchor_ms', 'since_ms', 'last_slot_ms', 'last_task_id', 'created_at_ms', 'updated_at_ms'],
  },
  {
    name: 'schedule_slots', order: 'id', identity: 'id', booleans: ['manual'],
    columns: ['id', 'schedule_name', 'scheduled_at_ms', 'manual', 'task_id', 'outcome', 'error_text', 'created_at_ms'],
  },
]

// PostgreSQL takes at most 65,535 parameters a statement; rows are sent in chunks well under that.
const MAX_PARAMS = 30_000

export class CopyRefused extends Error {}

export type CopyReport = Array<{ table: string; rows: number }>

/** Copies every table of `source` into the migrated, empty PostgreSQL database behind `target`. */
export async function copySqliteToPostgres(source: Database.Database, target: pg.Pool, progress: (table: string, rows: number) => void = () => {}): Promise<CopyReport> {
  const report: CopyReport = []
  const client = await target.connect()
  // A read transaction: every table is read from one snapshot while a server may go on writing.
  source.exec('BEGIN')
  try {
    await client.query('BEGIN')
    await refuseNonEmpty(client)
    for (const table of TABLES) {
      const rows = await copyTable(source, client, table)
      progress(table.name, rows)
      report.push({ table: table.name, rows })
    }
    await copyScheduleControl(source, client)
    await verifyCounts(source, client)
    await client.query('COMMIT')
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    source.exec('COMMIT')
    client.release()
  }
  return report
}

/**
 * The global schedule pause: a single row each schema's migration creates (so it is not among TABLES,
 * whose rows are inserted), set to the source's.
 */
async function copyScheduleControl(source: Database.Database, client: pg.PoolClient): Promise<void> {
  const c = source.prepare('SELECT paused, resumed_at_ms, updated_at_ms FROM schedule_control WHERE id = 1').get() as
    { paused: number; resumed_at_ms: number; updated_at_ms: number }
  await client.query('UPDATE schedule_control SET paused = $1, resumed_at_ms = $2, updated_at_ms = $3 WHERE id = 1',
    [c.paused === 1, c.resumed_at_ms, c.updated_at_ms])
}

async function refuseNonEmpty(client: pg.PoolClient): Promise<void> {
  for (const { name } of TABLES) {
    const { rows } = await client.query(`SELECT EXISTS (SELECT 1 FROM ${name}) AS taken`)
    if (rows[0].taken) throw new CopyRefused(`the target database is not empty (table ${name} has rows); copy into an empty one`)
  }
}

async function copyTable(source: Database.Database, client: pg.PoolClient, table: (typeof TABLES)[number]): Promise<number> {
  // Integers as BigInt: span times are nanoseconds past 2^53. They are bound as decimal text.
  const read = source.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.order}`).safeIntegers(true).raw(true)
  const targetColumns = [...table.columns.map((c) => table.as?.[c] ?? c), ...(table.derived === undefined ? [] : [table.derived.column])]
  const booleans = new Set((table.booleans ?? []).map((c) => table.columns.indexOf(c)))
  const chunk = Math.max(1, Math.floor(MAX_PARAMS / targetColumns.length))
  let batch: unknown[][] = []
  let copied = 0
  const flush = async () => {
    if (batch.length === 0) return
    const values = batch.flat()
    const tuples = batch.map((_, r) => `(${targetColumns.map((_c, i) => `$${r * targetColumns.length + i + 1}`).join(', ')})`)
    await client.query(`INSERT INTO ${table.name} (${targetColumns.join(', ')}) VALUES ${tuples.join(', ')}`, values)
    copied += batch.length
    batch = []
  }
  for (const row of read.iterate() as Iterable<unknown[]>) {
    const values = row.map((value, i) => (typeof value === 'bigint' ? (booleans.has(i) ? value !== 0n : value.toString()) : value))
    batch.push(table.derived === undefined ? values : [...values, table.derived.from(values)])
    if (batch.length >= chunk) await flush()
  }
  await flush()
  // Identity columns were given explicit values: the next generated one must come after them.
  if (table.identity !== undefined) {
    await client.query(`SELECT setval(pg_get_serial_sequence('${table.name}', '${table.identity}'),
      coalesce((SELECT max(${table.identity}) FROM ${table.name}), 0) + 1, false)`)
  }
  return copied
}

/** Every table holds as many rows as the source's snapshot, and the stage counts match the tasks. */
async function verifyCounts(source: Database.Database, client: pg.PoolClient): Promise<void> {
  for (const { name } of TABLES) {
    const expected = Number(source.prepare(`SELECT count(*) FROM ${name}`).pluck().get())
    const { rows } = await client.query(`SELECT count(*)::bigint AS n FROM ${name}`)
    if (Number(rows[0].n) !== expected) throw new Error(`copy check failed: ${name} has ${rows[0].n} rows, the source ${expected}`)
  }
  const { rows } = await client.query(`SELECT (SELECT count(*) FROM tasks) = (SELECT coalesce(sum(count), 0) FROM stage_counts) AS ok`)
  if (!rows[0].ok) throw new Error('copy check failed: stage counts do not add up to the tasks')
}
