// The console at /ui: server-rendered pages beside the JSON API, in the same process. Its own small router
// (the pages are not API routes: openapi.json does not list them). Every request is checked here once:
// the session (a login when an API token is set), and for every POST the Origin and the CSRF token.
import { validateHostHeader } from '@modelcontextprotocol/server'
import type { IncomingMessage } from 'node:http'
import { TLSSocket } from 'node:tls'
import type { App } from '../app.ts'
import { AppError } from '../domain/errors.ts'
import { readBody } from '../http/body.ts'
import { html, type Html } from './html.ts'
import { page } from './layout.ts'
import { ASSETS } from './assets.ts'
import { COOKIE, cookieOf, createSessions, isSameOrigin, sessionCookie } from './session.ts'
import type { UiRequest, UiRoute } from './route.ts'
import { htmlResponse, redirect, toResponse } from './respond.ts'
import { loginRoutes } from './pages/login.ts'
import { overviewRoutes } from './pages/overview.ts'
import { taskListRoutes } from './pages/tasks.ts'
import { taskRoutes } from './pages/task.ts'
import { deadLetterRoutes } from './pages/dead-letters.ts'
import { pipelineRoutes } from './pages/pipelines.ts'
import { storeRoutes } from './pages/store.ts'

const ROUTES: UiRoute[] = [...overviewRoutes, ...taskListRoutes, ...taskRoutes, ...deadLetterRoutes, ...pipelineRoutes, ...storeRoutes]

export function createConsole(app: App) {
  const sessions = createSessions(app.config.token)
  const hasLogin = app.config.token !== null

  async function handle(request: Request, req: IncomingMessage): Promise<Response> {
    try {
      return await serve(request, req)
    } catch (err) {
      if (err instanceof AppError) return htmlResponse(err.status, errorPage(err.status, err.message), {})
      app.log.error('console error', err)
      return htmlResponse(500, errorPage(500, 'Internal server error'), {})
    }
  }

  async function serve(request: Request, req: IncomingMessage): Promise<Response> {
    const url = new URL(req.url ?? '/ui', 'http://docket')
    const method = request.method === 'HEAD' ? 'GET' : request.method
    const asset = ASSETS.get(url.pathname)
    if (asset !== undefined && method === 'GET') {
      return new Response(asset.body, { status: 200, headers: { 'content-type': asset.contentType, 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' } })
    }
    // Bound to loopback, only a loopback name: a web page that rebinds its own name to 127.0.0.1 would send its
    // name as Host (and as Origin, so the same-origin check alone would pass it).
    const allowed = app.config.loopbackHosts
    if (allowed !== null && !validateHostHeader(request.headers.get('host'), allowed).ok) {
      return htmlResponse(403, errorPage(403, 'This console answers only to the loopback address it is bound to'), {})
    }
    const isSecure = req.socket instanceof TLSSocket
    const nowMs = app.clock.now()
    const headers: Record<string, string> = {}
    let session = sessions.verify(cookieOf(request.headers.get('cookie'), COOKIE), nowMs)
    const form = method === 'POST' ? await formOf(req, app.config.maxBodyBytes) : new URLSearchParams()

    const login = loginRoutes({ sessions, hasLogin, isSecure, nowMs, token: app.config.token })
    if (url.pathname === '/ui/login' || url.pathname === '/ui/logout') {
      if (method === 'POST' && !isSameOrigin(request.headers, isSecure)) return forbidden('this form did not come from this console (Origin)')
      if (url.pathname === '/ui/logout' && method === 'POST' && (session === null || !sessions.isCsrfToken(session, form.get('_csrf') ?? undefined))) {
        return forbidden('the form is stale or did not come from this console (CSRF token)')
      }
      if (url.pathname === '/ui/login') return method === 'POST' ? login.submit(form) : login.show(session !== null)
      return method === 'POST' ? login.logout() : redirect('/ui/', {})
    }

    if (session === null) {
      if (hasLogin) {
        if (method !== 'GET') return forbidden('log in first: no session')
        return redirect('/ui/login', {})
      }
      // Open console (no token, loopback only): a session all the same, for the CSRF token.
      if (method !== 'GET') return forbidden('the form is stale or did not come from this console (no session)')
      const issued = sessions.issue(nowMs)
      session = issued.session
      headers['set-cookie'] = sessionCookie(issued.value, issued.session.expiresAtMs - nowMs, isSecure)
    }
    if (method === 'POST') {
      if (!isSameOrigin(request.headers, isSecure)) return forbidden('this form did not come from this console (Origin)')
      if (!sessions.isCsrfToken(session, form.get('_csrf') ?? undefined)) return forbidden('the form is stale or did not come from this console (CSRF token)')
    }

    const matched = match(method, url.pathname)
    if (matched === null) return htmlResponse(404, errorPage(404, 'No such console page'), headers)
    const uiReq: UiRequest = { params: matched.params, query: url.searchParams, form, nowMs, frame: { csrf: sessions.csrfToken(session), hasLogin } }
    const reply = await matched.route.handle(uiReq, app)
    // A page may have read writes of a batch not committed yet: answer after that commit (as the API does).
    await app.driver.settled()
    return toResponse(reply, headers)
  }

  function match(method: string, path: string): { route: UiRoute; params: Record<string, string> } | null {
    const segments = path.split('/').filter(Boolean).slice(1).map(decodeSegment)
    for (const route of ROUTES) {
      if (route.method !== method) continue
      const pattern = route.path.split('/').filter(Boolean)
      if (pattern.length !== segments.length) continue
      const params: Record<string, string> = {}
      if (pattern.every((p, i) => (p.startsWith(':') ? ((params[p.slice(1)] = segments[i]), true) : p === segments[i]))) return { route, params }
    }
    return null
  }

  function errorPage(status: number, message: string): Html {
    return page({ title: `Error ${status}`, section: null, csrf: '', hasLogin: false, isLive: false },
      html`<h1>Error ${status}</h1><p class="error" role="alert">${message}</p><p><a href="/ui/">Back to the overview</a></p>`)
  }

  function forbidden(why: string): Response {
    return htmlResponse(403, errorPage(403, `Refused: ${why}. Reload the page and try again.`), {})
  }

  return { handle }
}

/** A percent-decoded path segment; bad percent-encoding names no page. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch (err) {
    if (err instanceof URIError) throw new AppError('not_found', 404, 'No such console page')
    throw err
  }
}

/** A urlencoded form body; anything else is refused. */
async function formOf(req: IncomingMessage, limit: number): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('application/x-www-form-urlencoded')) throw new AppError('unsupported_media_type', 415, 'Console forms are sent urlencoded')
  return new URLSearchParams((await readBody(req, limit)).toString('utf8'))
}
