import { Router } from 'itty-router'
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { App } from '../app.ts'
import type { Input, Method, Route } from './route.ts'
import { AppError } from '../domain/errors.ts'
import { errorJson } from '../domain/errors.ts'
import { secretsEqual } from '../domain/token.ts'
import { readBody } from './body.ts'
import { decodeComponent, idempotencyKeyOf, parseQuery } from './validate.ts'
import type { AnyReply, BinaryReply, Reply } from './reply.ts'

export type ServerContext = { req: IncomingMessage }

/**
 * A request made inside this process (the MCP tools call the API this way): routed, authorized, validated
 * and answered exactly as one that came over the socket.
 */
export type LocalRequest = { method: string; target: string; headers: Headers; body: Buffer | null; signal: AbortSignal }
type Matched = { route: Route; params: Record<string, string> }
/** The routes of one parameterless path, by method, with the answer to a wrong method precomputed. */
type Literal = { byMethod: Map<string, Route>; allowed: string[]; isPublic: boolean }

const METHODS: ReadonlySet<string> = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])
/** The route label of a request no route matched (404, 405, 401 before matching): never its path. */
const UNMATCHED = 'unmatched'

/** Which route a request reached, for the request-duration histogram (its template, e.g. /tasks/:id). */
type Reached = { route: string }
const JSON_TYPE = 'application/json; charset=utf-8'

/**
 * Paths are matched on decoded segments: the raw path is split on '/', empty segments dropped, each segment
 * percent-decoded once, then re-encoded behind a '_' so that itty-router sees one literal segment per
 * segment ('%2F' stays inside a key; '.' and '..' are not resolved as dot segments by the URL parser).
 */
function routingPath(segments: string[]): string {
  return '/' + segments.map((s) => '_' + encodeURIComponent(s)).join('/')
}

function routingPattern(path: string): string {
  return routingPath(path.split('/').filter(Boolean)).replace(/_%3A(\w+)/g, '_:$1')
}

export function createRouter(routes: Route[], app: App) {
  const matcher = Router<{ method: string; url: string; params: Record<string, string> }, [], Matched>()
  for (const r of routes) {
    matcher[r.method.toLowerCase() as 'get'](routingPattern(r.path), (req) => ({ route: r, params: req.params }))
  }

  const literals = literalsOf(routes)

  async function match(method: string, path: string): Promise<Matched | undefined> {
    return matcher.fetch({ method, url: `http://docket${path}`, params: {} })
  }

  /**
   * A path that is some route's literal path matches only the routes of that path: `GET /tasks/bulk` is a
   * wrong method on /tasks/bulk, not the task "bulk"; `DELETE /store/search` is not the namespace "search".
   * One map lookup, which also spares the hot literal routes (claims) itty's pattern scan.
   */
  function matchLiteral(literal: Literal, method: string): Matched | undefined {
    const route = literal.byMethod.get(method)
    return route === undefined ? undefined : { route, params: {} }
  }

  /** The methods a path answers, and whether it is a public path (itty keeps routes in the order added). */
  function methodsOf(path: string): { allowed: string[]; isPublic: boolean } {
    const allowed = new Set<string>()
    let isPublic = false
    matcher.routes.forEach(([method, pattern], i) => {
      if (!pattern.test(path)) return
      allowed.add(method as string)
      isPublic ||= routes[i].access === 'public'
    })
    if (allowed.has('GET')) allowed.add('HEAD')
    return { allowed: [...allowed].sort(), isPublic }
  }

  const observeRequest = requestTimer(app)

  async function handle(request: Request, ctx: ServerContext): Promise<Response> {
    const startedAt = performance.now()
    const isHead = request.method === 'HEAD'
    const reached: Reached = { route: UNMATCHED }
    let reply: AnyReply
    try {
      const method = isHead ? 'GET' : request.method
      const local = { method, target: ctx.req.url ?? '/', headers: request.headers, body: null, signal: request.signal }
      reply = await dispatch(local, () => readBody(ctx.req, app.config.maxBodyBytes), reached)
    } catch (err) {
      reply = errorReply(err, app)
    }
    const response = 'response' in reply ? (isHead ? headOf(reply.response) : reply.response) : toResponse(reply, isHead)
    observeRequest(request.method, reached.route, response.status, performance.now() - startedAt)
    return response
  }

  /** A request from inside the process; its answer as the route gave it (JSON text, or null for 204). */
  async function call(local: LocalRequest): Promise<Reply | BinaryReply> {
    try {
      const reply = await dispatch(local, async () => local.body ?? Buffer.alloc(0))
      if ('response' in reply) throw new Error(`${local.method} ${local.target} cannot be called in-process`)
      return reply
    } catch (err) {
      return errorReply(err, app)
    }
  }

  async function dispatch(request: LocalRequest, readRequestBody: () => Promise<Buffer>, reached?: Reached): Promise<AnyReply> {
    const { method, target } = request
    const q = target.indexOf('?')
    const rawPath = q < 0 ? target : target.slice(0, q)
    const segments = rawPath.split('/').filter(Boolean).map((s, i) => decodeComponent(s, `path[${i}]`))
    const path = routingPath(segments)
    const bearer = bearerOf(request.headers.get('authorization'))
    const token = app.config.token
    const isApiAuthorized = token === null || (bearer !== null && secretsEqual(bearer, token))

    const literal = literals.get(path)
    const matched = literal !== undefined ? matchLiteral(literal, method) : METHODS.has(method) ? await match(method, path) : undefined
    if (matched === undefined) {
      const { allowed, isPublic } = literal ?? methodsOf(path)
      if (!isApiAuthorized && !isPublic) throw unauthorized()
      if (allowed.length === 0) throw new AppError('not_found', 404, 'Not found')
      throw new AppError('method_not_allowed', 405, `Method ${method} not allowed`, undefined, { allow: allowed.join(', ') })
    }
    const { route, params } = matched
    if (reached !== undefined) reached.route = route.path
    if (route.access === 'api' && !isApiAuthorized) throw unauthorized()

    const input: Input = {
      method: method as Method,
      rawPath,
      params: decodeParams(params),
      query: parseQuery(q < 0 ? '' : target.slice(q + 1)),
      body: method === 'GET' ? null : await readRequestBody(),
      headers: request.headers,
      bearer,
      isApiAuthorized,
      idempotencyKey: method === 'GET' ? null : idempotencyKeyOf(request.headers),
      signal: request.signal,
    }
    const reply = await route.handle(input, app)
    // A read may have seen writes of a batch that is not committed yet: answer after that commit.
    if (method === 'GET') await app.driver.settled()
    return reply
  }

  return { handle, call, routes }
}

/**
 * Observes a request's duration by method, route template and status. The labelled children are kept by
 * their key: prom-client would otherwise hash the label object on every request.
 */
function requestTimer(app: App): (method: string, route: string, status: number, ms: number) => void {
  const children = new Map<string, { observe(seconds: number): void }>()
  return (method, route, status, ms) => {
    const m = METHODS.has(method) || method === 'HEAD' ? method : 'other'
    const key = `${m} ${route} ${status}`
    let child = children.get(key)
    if (child === undefined) {
      child = app.metrics.httpDuration.labels(m, route, String(status))
      children.set(key, child)
    }
    child.observe(ms / 1000)
  }
}

function literalsOf(routes: Route[]): Map<string, Literal> {
  const literals = new Map<string, Literal>()
  for (const r of routes) {
    if (r.path.includes(':')) continue
    const path = routingPattern(r.path)
    const literal = literals.get(path) ?? { byMethod: new Map(), allowed: [], isPublic: false }
    literal.byMethod.set(r.method, r)
    literal.allowed = [...literal.byMethod.keys(), ...(literal.byMethod.has('GET') ? ['HEAD'] : [])].sort()
    literal.isPublic ||= r.access === 'public'
    literals.set(path, literal)
  }
  return literals
}

function decodeParams(params: Record<string, string>): Record<string, string> {
  const decoded: Record<string, string> = {}
  for (const key in params) decoded[key] = decodeURIComponent(params[key])
  return decoded
}

function bearerOf(header: string | null): string | null {
  if (header === null || !header.startsWith('Bearer ')) return null
  return header.slice(7)
}

export function unauthorized(message = 'Missing or invalid Authorization header'): AppError {
  return new AppError('unauthorized', 401, message)
}

function errorReply(err: unknown, app: App): Reply {
  if (err instanceof AppError) {
    return { status: err.status, body: errorJson(err.code, err.message, err.details), headers: err.headers }
  }
  app.log.error('unhandled error', err)
  return { status: 500, body: errorJson('internal_error', 'Internal server error') }
}

/** HEAD of a made Response (an export): its status and headers; its body is never read (an export would run whole). */
function headOf(response: Response): Response {
  void response.body?.cancel()
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers })
}

function toResponse(reply: Reply | BinaryReply, isHead: boolean): Response {
  // A fresh headers object per response: the adapter writes content-length into it.
  const headers: Record<string, string> = reply.body === null ? {} : { 'content-type': JSON_TYPE }
  if (reply.headers) Object.assign(headers, reply.headers)
  // HEAD announces the length GET would send; without it Node closes the keep-alive connection.
  if (isHead && reply.body !== null) headers['content-length'] = String(Buffer.byteLength(reply.body))
  return new Response(isHead || reply.body === null ? null : reply.body, { status: reply.status, statusText: STATUS_CODES[reply.status], headers })
}
