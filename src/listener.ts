import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { TlsFiles } from './tls.ts'

const KEEP_ALIVE_MS = 5_000
const MAX_HEADER_BYTES = 16 * 1024 // request line and headers together; larger → 431

export type ListenerOptions = { requestTimeoutMs: number; headersTimeoutMs: number; tls: TlsFiles | null }

/** The server Docket listens with: plain HTTP, or HTTPS with the same limits (and client certificates when a client CA is set). */
export function createListener(options: ListenerOptions, handler: RequestListener): Server {
  const limits = {
    requestTimeout: options.requestTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_MS,
    // Node checks the two timeouts above only this often (its default, 30 s, would let a slow client stay 40 s).
    connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs / 2),
    maxHeaderSize: MAX_HEADER_BYTES,
  }
  if (options.tls === null) return createHttpServer(limits, handler)
  const { cert, key, clientCa } = options.tls
  return createHttpsServer({
    ...limits,
    cert,
    key,
    // The header timeouts start only once the handshake is done; a client that never finishes it would
    // otherwise hold its connection for Node's default of 120 s.
    handshakeTimeout: options.headersTimeoutMs,
    ...(clientCa === null ? {} : { ca: clientCa, requestCert: true, rejectUnauthorized: true }),
  }, handler)
}
