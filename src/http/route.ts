import type { AnyReply } from './reply.ts'
import type { App } from '../app.ts'

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/**
 * Who may call a route when an API token is configured:
 * public — anyone; api — the API token; lease — the run's lease token, checked by the handler;
 * api_or_lease — the API token, or the lease token of the run in the path (checked by the handler).
 */
export type Access = 'public' | 'api' | 'lease' | 'api_or_lease'

export type Input = {
  method: Method
  /** The request path as sent (before `?`), undecoded: part of the Idempotency-Key tuple. */
  rawPath: string
  params: Record<string, string>
  query: Record<string, string>
  body: Buffer | null
  headers: Headers
  /** The bearer credential, if an `Authorization: Bearer …` header was sent. */
  bearer: string | null
  /** True when no API token is configured or the bearer is the API token. */
  isApiAuthorized: boolean
  idempotencyKey: string | null
  /** Aborted when the client goes away (long-poll claims stop waiting). */
  signal: AbortSignal
}

export type Handler = (input: Input, app: App) => AnyReply | Promise<AnyReply>

export type Route = { method: Method; path: string; access: Access; handle: Handler }

const route = (method: Method, access: Access) => (path: string, handle: Handler): Route => ({ method, path, access, handle })

export const get = route('GET', 'api')
export const post = route('POST', 'api')
export const put = route('PUT', 'api')
export const del = route('DELETE', 'api')
export const patch = route('PATCH', 'api')

export function withAccess(r: Route, access: Access): Route {
  return { ...r, access }
}
