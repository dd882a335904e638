import { parseArgs } from 'node:util'
import type { Durability } from './store/sqlite/db.ts'
import { loadTls, TlsConfigError, type TlsFiles, type TlsPaths } from './tls.ts'

export type ServerOptions = {
  host: string
  port: number
  db: string
  token: string | null
  maxBodyBytes: number
  /** Whole request (headers and body) must arrive within this; a slow client gets 408 and is closed. */
  requestTimeoutMs: number
  headersTimeoutMs: number
  durability: Durability
  insecure: boolean
  /** null: plain HTTP. */
  tls: TlsFiles | null
}

export type Parsed = { kind: 'run'; options: ServerOptions } | { kind: 'help' } | { kind: 'version' }

export const USAGE = `Usage: npm start -- [options]
  --host H                 address to bind (default 127.0.0.1; env DOCKET_HOST)
  --port N                 port, 0..65535 (default 7700; env DOCKET_PORT)
  --db PATH                SQLite file (default ./docket.db; env DOCKET_DB)
  --token T                API token required on every route but /health and the OpenAPI paths (env DOCKET_TOKEN)
  --max-body-bytes N       request body limit in bytes, decompressed included (default 1048576)
  --request-timeout-ms N   time to receive a whole request, 1000..3600000 (default 30000)
  --headers-timeout-ms N   time to receive the request headers, 1000..request timeout (default 10000)
  --durability MODE        normal (survives a process crash) or full (fsync every commit; survives power loss)
  --tls-cert PATH          serve HTTPS with this PEM certificate or chain (env DOCKET_TLS_CERT)
  --tls-key PATH           the PEM private key of --tls-cert (env DOCKET_TLS_KEY)
  --tls-client-ca PATH     require a client certificate issued by this PEM CA (mTLS; env DOCKET_TLS_CLIENT_CA)
  --insecure               allow a non-loopback --host without a token or a client CA
  --help, --version`

export class UsageError extends Error {}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/

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
        token: { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'request-timeout-ms': { type: 'string' },
        'headers-timeout-ms': { type: 'string' },
        durability: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-client-ca': { type: 'string' },
        insecure: { type: 'boolean' },
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
  const options: ServerOptions = {
    host,
    port,
    db: values.db ?? env.DOCKET_DB ?? './docket.db',
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
  }
  // A required client certificate authenticates every caller, as a token does.
  const isAuthenticated = token !== null || (options.tls !== null && options.tls.clientCa !== null)
  if (!LOOPBACK.test(host) && !isAuthenticated && !options.insecure) {
    throw new UsageError(`refusing to listen on ${host} without an API token: pass --token (or DOCKET_TOKEN), --tls-client-ca, or --insecure`)
  }
  return { kind: 'run', options }
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
