// How the MCP tools reach Docket: through its HTTP API, so every validation, error code and lease rule is the
// API's. In the server (/mcp) a call goes through the app's router in-process; in the stdio bridge, over HTTP
// to a running Docket.
import type { LocalRequest } from '../http/router.ts'
import type { Reply, BinaryReply } from '../http/reply.ts'

export type ApiCall = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  /** Path and query, each segment already percent-encoded. */
  path: string
  body?: unknown
  /** The lease token for a lease route; other calls carry the API token, if any. */
  lease?: string
}

/** An answer: the status and the parsed JSON body (null for 204). */
export type ApiAnswer = { status: number; body: any }

export type DocketApi = (call: ApiCall) => Promise<ApiAnswer>

function headersFor(call: ApiCall, apiToken: string | null): Headers {
  const headers = new Headers({ 'content-type': 'application/json' })
  const bearer = call.lease ?? apiToken
  if (bearer !== null) headers.set('authorization', `Bearer ${bearer}`)
  return headers
}

/** In-process: the request handler's own routing, with the API token the /mcp request carried. */
export function localApi(callRoute: (r: LocalRequest) => Promise<Reply | BinaryReply>, apiToken: string | null, signal: AbortSignal): DocketApi {
  return async (call) => {
    const reply = await callRoute({
      method: call.method,
      target: call.path,
      headers: headersFor(call, apiToken),
      body: call.body === undefined ? null : Buffer.from(JSON.stringify(call.body)),
      signal,
    })
    return { status: reply.status, body: typeof reply.body === 'string' ? JSON.parse(reply.body) : null }
  }
}

/** Over HTTP to the Docket at `baseUrl` (the stdio bridge). */
export function httpApi(baseUrl: string, apiToken: string | null): DocketApi {
  const base = baseUrl.replace(/\/+$/, '')
  return async (call) => {
    const res = await fetch(base + call.path, {
      method: call.method,
      headers: headersFor(call, apiToken),
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
    })
    const text = await res.text()
    if (text !== '' && !(res.headers.get('content-type') ?? '').startsWith('application/json')) {
      return { status: res.status, body: { error: { code: 'unexpected_answer', message: `${base} answered ${res.status} with ${text.slice(0, 200)}` } } }
    }
    return { status: res.status, body: text === '' ? null : JSON.parse(text) }
  }
}

/** Percent-encodes one path segment. */
export const seg = encodeURIComponent
