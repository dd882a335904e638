import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http'

const KEEP_ALIVE_MS = 5_000
const MAX_HEADER_BYTES = 16 * 1024 // request line and headers together; larger → 431

export type ListenerOptions = { requestTimeoutMs: number; headersTimeoutMs: number }

/** The server Docket listens with. */
export function createListener(options: ListenerOptions, handler: RequestListener): Server {
  const limits = {
    requestTimeout: options.requestTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_MS,
    // Node checks the two timeouts above only this often (its default, 30 s, would let a slow client stay 40 s).
    connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs / 2),
    maxHeaderSize: MAX_HEADER_BYTES,
  }
  return createHttpServer(limits, handler)
}
