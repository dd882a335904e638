import { Pool } from 'undici'

export type Reply = { status: number; body: any }
export type RawReply = { status: number; body: Buffer }

/**
 * The one HTTP client of the bench: a thin client on one keep-alive undici Pool, far less CPU per request
 * than fetch, so the load generator (which shares the 2 cores with the server) eats as little of the
 * server's time as it can. JSON in and out (request, call), or raw bytes (send, for OTLP protobuf).
 */
export type Client = {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>
  /** Like request, but fails unless the status is one of `expect`. */
  call(method: string, path: string, body: unknown, expect: number[], headers?: Record<string, string>): Promise<Reply>
  /** Sends `body` as it is (set content-type in `headers`) and returns the answer's bytes. */
  send(method: string, path: string, body: Buffer | undefined, headers: Record<string, string>): Promise<RawReply>
  /** Requests sent and not yet answered. */
  inFlight(): number
  /** Waits for the requests in flight, then closes the connections. */
  close(): Promise<void>
  /** Closes the connections now, failing the requests in flight (e.g. long-poll claims left waiting). */
  destroy(): Promise<void>
}

/** `url` must be the 127.0.0.1 address of a Docket the bench started: the bench sends nothing anywhere else. */
export function createClient(url: string, connections: number): Client {
  if (new URL(url).hostname !== '127.0.0.1') throw new Error(`the bench only talks to 127.0.0.1, not ${url}`)
  // Idle sockets are dropped before Docket's 5 s keep-alive timeout would close them under a request in flight
  // (a POST is not retried); undici also honours the server's Keep-Alive hint.
  const pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 4_000 })
  const client: Client = {
    async request(method, path, body, headers = {}) {
      const hasBody = body !== undefined
      const res = await pool.request({
        method: method as 'GET',
        path,
        body: hasBody ? JSON.stringify(body) : undefined,
        headers: hasBody ? { 'content-type': 'application/json', ...headers } : headers,
      })
      const text = await res.body.text()
      return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) }
    },
    async call(method, path, body, expect, headers) {
      const reply = await client.request(method, path, body, headers)
      if (!expect.includes(reply.status)) {
        throw new Error(`${method} ${path}: expected ${expect.join('/')}, got ${reply.status} ${JSON.stringify(reply.body)}`)
      }
      return reply
    },
    async send(method, path, body, headers) {
      const res = await pool.request({ method: method as 'GET', path, body, headers })
      return { status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer()) }
    },
    inFlight: () => pool.stats.running,
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  }
  return client
}
