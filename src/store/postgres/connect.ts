// The PostgreSQL driver's connection pool. Every client it opens encodes the strings it binds and decodes
// the text it reads (text.ts: U+0000), reads int8 as a number, and leaves JSON as the text it is.
import pg from 'pg'
import { decodeText, encodeParam } from './text.ts'
import { describePgTarget, pgTarget } from './url.ts'

/** How long opening a connection may take before it fails: a start against a dead host ends well within 10 s. */
export const CONNECT_TIMEOUT_MS = 5_000

export type PoolOptions = {
  size: number
  connectTimeoutMs?: number
  /** A connection that failed while idle or between queries (server restart, killed backend): logged, not thrown. */
  onError?(err: Error): void
}

const OID = { int8: 20, text: 25, json: 114, textArray: 1009, varchar: 1043, varcharArray: 1015, int8Array: 1016, jsonb: 3802 }

// int8 (counts, bigint columns) as a number: every value Docket keeps in one is a JavaScript number, except
// span nanoseconds, which the queries select as text. A value past 2^53 stays the decimal string pg gives.
const int8 = (s: string): number | string => {
  const n = Number(s)
  return Number.isSafeInteger(n) ? n : s
}
const base = pg.types.getTypeParser
const textArray = base(OID.textArray) as (s: string) => Array<string | null>
const int8Array = base(OID.int8Array) as (s: string) => Array<string | null>
const PARSERS: Record<number, (s: string) => unknown> = {
  [OID.int8]: int8,
  [OID.text]: decodeText,
  [OID.varchar]: decodeText,
  [OID.textArray]: (s) => textArray(s).map((e) => (e === null ? null : decodeText(e))),
  [OID.varcharArray]: (s) => textArray(s).map((e) => (e === null ? null : decodeText(e))),
  [OID.int8Array]: (s) => int8Array(s).map((e) => (e === null ? null : int8(e))),
  // JSON stays the text that was stored: the API echoes it byte for byte (schema.postgres.sql).
  [OID.json]: (s) => s,
  [OID.jsonb]: (s) => s,
}
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' && PARSERS[oid] !== undefined ? PARSERS[oid] : base(oid, format as 'text')) as typeof pg.types.getTypeParser,
}

/** A pg.Client that encodes every bound parameter (positional values or a config's `values`). */
class DocketClient extends pg.Client {
  // pg's query() is a dozen overloads; this forwards every form unchanged but the values (hence `any`).
  query(config: unknown, values?: unknown, callback?: unknown): any {
    if (Array.isArray(values)) values = values.map(encodeParam)
    else if (typeof config === 'object' && config !== null && Array.isArray((config as { values?: unknown }).values)) {
      config = { ...config, values: (config as { values: unknown[] }).values.map(encodeParam) }
    }
    // @ts-expect-error see above
    return super.query(config, values, callback)
  }
}

/** The client settings every connection gets (the pool's, and listen.ts's dedicated one). */
export function clientConfig(url: string, connectTimeoutMs = CONNECT_TIMEOUT_MS): pg.ClientConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: connectTimeoutMs,
    types,
    keepAlive: true,
    application_name: 'docket',
  }
}

/** A client outside the pool (LISTEN), with the same encoding and parsers. */
export function createClient(url: string, connectTimeoutMs?: number): pg.Client {
  return new DocketClient(clientConfig(url, connectTimeoutMs))
}

/** A pool of `size` connections; nothing is opened until first use (openPool checks the server). */
export function createPool(url: string, options: PoolOptions): pg.Pool {
  const onError = options.onError ?? (() => {})
  const pool = new pg.Pool({
    ...clientConfig(url, options.connectTimeoutMs),
    max: options.size,
    Client: DocketClient as unknown as new () => pg.ClientBase,
    // A write whose one statement runs without BEGIN (tx.ts) gets the session's isolation: READ COMMITTED,
    // as every transaction begins, whatever the server's (or the role's) default. Set before the connection
    // is first handed out; if it fails, so does that checkout.
    onConnect: async (client) => {
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED')
    },
  })
  // A client whose connection drops (the server restarts, an admin ends the backend) emits 'error'; unhandled,
  // that would end the process. pg-pool listens on a client only while it is idle (and re-emits on the pool):
  // one checked out but between queries (inside a transaction, awaiting) has no listener. So every client gets
  // one for its whole life, which reports each error once; the pool's re-emit is only acknowledged. A query
  // in flight, or the next one, still fails, and its caller sees that.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', onError))
  return pool
}

export class PgConnectError extends Error {}

/**
 * A pool whose server answered: PostgreSQL 14 or newer, UTF8. Throws PgConnectError naming host, port and
 * database (never the password) when it cannot be reached within the connect timeout, refuses the login, or
 * is too old.
 */
export async function openPool(url: string, options: PoolOptions): Promise<pg.Pool> {
  const where = describePgTarget(pgTarget(url))
  const pool = createPool(url, options)
  try {
    const { rows } = await pool.query<{ version: string; encoding: string }>(
      "SELECT current_setting('server_version_num') AS version, current_setting('server_encoding') AS encoding")
    if (Number(rows[0].version) < 140000) throw new PgConnectError(`${where} runs PostgreSQL ${rows[0].version}; Docket needs 14 or newer`)
    if (rows[0].encoding !== 'UTF8') throw new PgConnectError(`${where} has encoding ${rows[0].encoding}; Docket needs a UTF8 database`)
    return pool
  } catch (err) {
    await pool.end().catch(() => {})
    if (err instanceof PgConnectError) throw err
    throw new PgConnectError(`cannot use PostgreSQL at ${where}: ${reason(err as Error)}`)
  }
}

function reason(err: Error): string {
  const e = err as Error & { code?: string; cause?: Error }
  if (/timeout/i.test(e.message) || /timeout/i.test(e.cause?.message ?? '')) return 'no answer within the connect timeout'
  return e.code !== undefined ? `${e.message} (${e.code})` : e.message
}
