// A browser-like client of the console for HTTP tests: keeps the session cookie, sends forms urlencoded
// with this server's Origin, and reads the CSRF token from the last page.
import * as assert from 'uvu/assert'
import type { TestServer } from './server.ts'

export type Page = { status: number; headers: Headers; text: string }

export type ConsoleClient = {
  cookie: string | null
  csrf: string | null
  get(path: string): Promise<Page>
  /** Posts a form; the CSRF token of the last page is added unless `_csrf` is given. */
  post(path: string, fields: Record<string, string | string[]>, headers?: Record<string, string>): Promise<Page>
  login(token: string): Promise<Page>
}

export function consoleClient(s: TestServer): ConsoleClient {
  const origin = new URL(s.url).origin
  const client: ConsoleClient = {
    cookie: null,
    csrf: null,
    async get(path) {
      return send(path, { method: 'GET' })
    },
    async post(path, fields, headers = {}) {
      const body = new URLSearchParams()
      if (fields._csrf === undefined && client.csrf !== null) body.append('_csrf', client.csrf)
      for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one)
      return send(path, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', origin, ...headers } })
    },
    async login(token) {
      const res = await client.post('/ui/login', { token })
      assert.is(res.status, 303, res.text)
      assert.is(res.headers.get('location'), '/ui/')
      return res
    },
  }

  async function send(path: string, init: { method: string; body?: string; headers?: Record<string, string> }): Promise<Page> {
    const headers: Record<string, string> = { ...init.headers }
    if (client.cookie !== null) headers.cookie = client.cookie
    const res = await fetch(s.url + path, { method: init.method, body: init.body, headers, redirect: 'manual' })
    const set = res.headers.get('set-cookie')
    if (set !== null) {
      const value = /^docket_session=([^;]*)/.exec(set)?.[1] ?? ''
      client.cookie = value === '' ? null : `docket_session=${value}`
    }
    const text = await res.text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(text)?.[1]
    if (csrf !== undefined) client.csrf = csrf
    return { status: res.status, headers: res.headers, text }
  }
  return client
}

/** The visible text of a page, tags dropped and entities decoded enough for assertions. */
export function textOf(html: string): string {
  return html.replace(/<[^>]+>/g, ' ').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ')
}
