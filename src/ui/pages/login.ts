// Login with the API token (once; then a session cookie) and logout. The token travels only in the POST
// body, is compared hashed in constant time, and is never logged or put in a URL.
import { secretsEqual } from '../../domain/token.ts'
import { html } from '../html.ts'
import { errorBox, page } from '../layout.ts'
import { htmlResponse, redirect } from '../respond.ts'
import { sessionCookie, type Sessions } from '../session.ts'

type LoginContext = { sessions: Sessions; hasLogin: boolean; isSecure: boolean; nowMs: number; token: string | null }

export function loginRoutes(ctx: LoginContext) {
  const form = (error: string | null) => page({ title: 'Log in', section: null, csrf: '', hasLogin: false, isLive: false }, html`
<div class="login">
  <h1>Docket console</h1>
  ${errorBox(error)}
  <form method="post" action="/ui/login">
    <label for="token">API token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
    <p><button type="submit">Log in</button></p>
  </form>
  <p class="muted">The token the server was started with (<code>--token</code> or <code>DOCKET_TOKEN</code>). You stay logged in for 12 hours in this browser.</p>
</div>`)

  return {
    show(hasSession: boolean): Response {
      if (!ctx.hasLogin || hasSession) return redirect('/ui/', {})
      return htmlResponse(200, form(null), {})
    },
    submit(fields: URLSearchParams): Response {
      if (ctx.token === null) return redirect('/ui/', {})
      const presented = fields.get('token') ?? ''
      if (presented === '' || !secretsEqual(presented, ctx.token)) return htmlResponse(401, form('That is not the API token.'), {})
      const issued = ctx.sessions.issue(ctx.nowMs)
      return redirect('/ui/', { 'set-cookie': sessionCookie(issued.value, issued.session.expiresAtMs - ctx.nowMs, ctx.isSecure) })
    },
    logout(): Response {
      return redirect(ctx.hasLogin ? '/ui/login' : '/ui/', { 'set-cookie': sessionCookie('', 0, ctx.isSecure) })
    },
  }
}
