import { Pool } from 'undici'

export type Reply = { status: number; body: any }

/**
 * A thin JSON client on one keep-alive undici Pool: far less CPU per request than fetch, so the load
 * generator (which shares the 2 cores with the server) eats as little of the server's time as it can.
 */
export type Client = {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>
  /** Like request, but fails unless the status is one of `expect`. */
  call(method: string, path: string, body: unknown, expect: number[], headers?: Record<string, string>): Promise<Reply>
  close(): Promise<void>
}

export function createClient(url: string, connections: number): Client {
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
    close: () => pool.close(),
  }
  return client
}
