// Console answers as Responses: every page with the same security headers.
import type { Html } from './html.ts'
import type { UiReply } from './route.ts'

// No inline script or style anywhere; forms post only here; nothing may frame the console.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

function pageHeaders(): Record<string, string> {
  // A fresh object per response: the adapter writes content-length into it.
  return {
    'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'cache-control': 'no-store',
    'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin', 'x-frame-options': 'DENY',
  }
}

export function toResponse(reply: UiReply, headers: Record<string, string>): Response {
  if ('redirect' in reply) return redirect(reply.redirect, headers)
  return htmlResponse(reply.status, reply.body, headers)
}

export function redirect(to: string, headers: Record<string, string>): Response {
  return new Response(null, { status: 303, headers: { ...headers, location: to, 'cache-control': 'no-store' } })
}

export function htmlResponse(status: number, body: Html, headers: Record<string, string>): Response {
  return new Response(body.text, { status, headers: { ...pageHeaders(), ...headers } })
}
