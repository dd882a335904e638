import { parseArgs } from 'node:util'
import type { Durability } from './store/sqlite/db.ts'
import { loadTls, TlsConfigError, type TlsFiles, type TlsPaths } from './tls.ts'
import { describePgTarget, isPostgresUrl, pgTarget, type PgTarget } from './store/postgres/url.ts'
import { parseToolsets, type Toolset } from './mcp/session.ts'

/** Which storage driver `--db` selects: a postgres:// or postgresql:// URL is PostgreSQL, anything else a SQLite path. */
export type DriverChoice =
  | { kind: 'sqlite'; path: string }
  | { kind: 'postgres'; url: string; target: PgTarget; poolSize: number }

// Connections one node keeps to PostgreSQL. Long-poll waiters hold none (they wait in memory; LISTEN has its
// own session), so a pool this size serves many agents. The cap keeps a node's share of the server's
// max_connections (100 by default) sane: N nodes need N × (pool + 1) connections.
export const PG_POOL_DEFAULT = 10
export const PG_POOL_MAX = 200

export type ServerOptions = {
  host: string
  port: number
  /** --db as given (a path or a URL with its password: log describeDriver(driver), never this). */
  db: string
  driver: DriverChoice
  token: string | null
  maxBodyBytes: number
  /** Whole request (headers and body) must arrive within this; a slow client gets 408 and is closed. */
  requestTimeoutMs: number
  headersTimeoutMs: number
  durability: Durability
  insecure: boolean
  /** null: plain HTTP. */
  tls: TlsFiles | null
  /** The MCP toolsets /mcp offers. */
  mcpToolsets: Set<Toolset>
  /** GET /metrics answers without the API token. */
  metricsPublic: boolean
}

export type Parsed = { kind: 'run'; options: ServerOptions } | { kind: 'help' } | { kind: 'version' }

export const USAGE = `Usage: npm start -- [options]
  --host H                 address to bind (default 127.0.0.1; env DOCKET_HOST)
  --port N                 port, 0..65535 (default 7700; env DOCKET_PORT)
  --db PATH|URL            SQLite file (default ./docket.db), or postgres://user:pass@host:port/db to use
                           PostgreSQL 14+ (postgresql:// too; env DOCKET_DB)
  --pg-pool N              PostgreSQL connections of this node, 1..${PG_POOL_MAX} (default ${PG_POOL_DEFAULT})
  --token T                API token required on every route but /health and the OpenAPI paths (env DOCKET_TOKEN)
  --max-body-bytes N       request body limit in bytes, decompressed included (default 1048576)
  --request-timeout-ms N   time to receive a whole request, 1000..3600000 (default 30000)
  --headers-timeout-ms N   time to receive the request headers, 1000..request timeout (default 10000)
  --durability MODE        normal (survives a process crash) or full (fsync every commit; survives power loss)
  --tls-cert PATH          serve HTTPS with this PEM certificate or chain (env DOCKET_TLS_CERT)
  --tls-key PATH           the PEM private key of --tls-cert (env DOCKET_TLS_KEY)
  --tls-client-ca PATH     require a client certificate issued by this PEM CA (mTLS; env DOCKET_TLS_CLIENT_CA)
  --insecure               allow a non-loopback --host without a token or a client CA
  --mcp-toolsets LIST      MCP tools at /mcp: agent (default) or agent,admin (env DOCKET_MCP_TOOLSETS)
  --metrics-public         serve GET /metrics without the API token (a scraper on a trusted network)
  --help, --version`

export class UsageError extends Error {}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

export const isLoopback = (host: string) => LOOPBACK.test(host)

/** Flags win over the environment; anything unknown or invalid is a UsageError (exit 2). */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  let values
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        db: { type: 'string' },
        'pg-pool': { type: 'string' },
        token: { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        durability: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        insecure: { type: 'boolean' },
        'mcp-toolsets': { type: 'string' },
        'metrics-public': { type: 'boolean' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
    }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) return { kind: 'help' }
  if (values.version) return { kind: 'version' }

  const host = values.host ?? env.DOCKET_HOST ?? '127.0.0.1'
  const port = integer('--port', values.port ?? env.DOCKET_PORT ?? '7700', 0, 65535)
  const token = values.token ?? env.DOCKET_TOKEN ?? null
  const durability = values.durability ?? 'normal'
  if (durability !== 'normal' && durability !== 'full') throw new UsageError(`--durability must be normal or full, not ${durability}`)
  if (token === '') throw new UsageError('--token must not be empty')
  const requestTimeoutMs = integer('--request-timeout-ms', values['request-timeout-ms'] ?? '30000', 1000, 3_600_000)
  const headersTimeoutMs = integer('--headers-timeout-ms', values['headers-timeout-ms'] ?? String(Math.min(10_000, requestTimeoutMs)), 1000, requestTimeoutMs)
  const db = values.db ?? env.DOCKET_DB ?? './docket.db'
  const options: ServerOptions = {
    host,
    port,
    db,
    driver: chooseDriver(db, values['pg-pool']),
    token,
    maxBodyBytes: integer('--max-body-bytes', values['max-body-bytes'] ?? '1048576', 1024, 1024 ** 3),
    requestTimeoutMs,
    headersTimeoutMs,
    durability,
    insecure: values.insecure ?? false,
    tls: readTls({
      cert: values['tls-cert'] ?? env.DOCKET_TLS_CERT,
      key: values['tls-key'] ?? env.DOCKET_TLS_KEY,
      clientCa: values['tls-client-ca'] ?? env.DOCKET_TLS_CLIENT_CA,
    }),
    mcpToolsets: toolsets(values['mcp-toolsets'] ?? env.DOCKET_MCP_TOOLSETS),
    metricsPublic: values['metrics-public'] ?? false,
  }
  // A required client certificate authenticates every caller, as a token does.
  const isAuthenticated = token !== null || (options.tls !== null && options.tls.clientCa !== null)
  if (!LOOPBACK.test(host) && !isAuthenticated && !options.insecure) {
    throw new UsageError(`refusing to listen on ${host} without an API token: pass --token (or DOCKET_TOKEN), --tls-client-ca, or --insecure`)
  }
  return { kind: 'run', options }
}

function chooseDriver(db: string, pgPool: string | undefined): DriverChoice {
  if (!isPostgresUrl(db)) {
    if (pgPool !== undefined) throw new UsageError('--pg-pool applies to a PostgreSQL --db (postgres://…) only')
    return { kind: 'sqlite', path: db }
  }
  let target: PgTarget
  try {
    target = pgTarget(db)
  } catch (err) {
    throw new UsageError(`--db: ${(err as Error).message}`) // the message holds none of the URL (its password)
  }
  return { kind: 'postgres', url: db, target, poolSize: integer('--pg-pool', pgPool ?? String(PG_POOL_DEFAULT), 1, PG_POOL_MAX) }
}

/** The database for the startup line: driver, and for PostgreSQL host, port and database (never the password). */
export function describeDriver(driver: DriverChoice): string {
  if (driver.kind === 'sqlite') return `SQLite ${driver.path}`
  return `PostgreSQL ${describePgTarget(driver.target)} (pool ${driver.poolSize})`
}

function readTls(paths: TlsPaths): TlsFiles | null {
  try {
    return loadTls(paths)
  } catch (err) {
    if (err instanceof TlsConfigError) throw new UsageError(err.message)
    throw err
  }
}

function integer(flag: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be an integer between ${min} and ${max}, not ${text}`)
  return n
}

function toolsets(text: string | undefined): Set<Toolset> {
  try {
    return parseToolsets(text)
  } catch (err) {
    throw new UsageError(`--mcp-toolsets: ${(err as Error).message}`)
  }
}
