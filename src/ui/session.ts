// Console sessions: a signed, expiring cookie (HttpOnly, SameSite=Strict, path /ui) and a CSRF token tied to it.
// The signing key is derived from the API token, so sessions survive a restart and work on every node that
// shares the token, and changing the token ends them all. Without a token (loopback only) the key is random
// per process start: the console is open, and the session only carries the CSRF token.
import { createHmac, randomBytes } from 'node:crypto'
import { secretsEqual } from '../domain/token.ts'

export const COOKIE = 'docket_session'
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000

export type Session = { id: string; expiresAtMs: number }

export type Sessions = {
  /** A new session's cookie value. */
  issue(nowMs: number): { session: Session; value: string }
  /** The session a cookie value names, if its signature is ours and it has not expired. */
  verify(value: string | undefined, nowMs: number): Session | null
  csrfToken(session: Session): string
  isCsrfToken(session: Session, presented: string | undefined): boolean
}

export function createSessions(apiToken: string | null): Sessions {
  const key = apiToken === null ? randomBytes(32) : createHmac('sha256', 'docket console session').update(apiToken).digest()
  const mac = (text: string) => createHmac('sha256', key).update(text).digest('base64url')
  const csrfToken = (s: Session) => mac(`csrf.${s.id}`)
  return {
    issue(nowMs) {
      const session = { id: randomBytes(16).toString('base64url'), expiresAtMs: nowMs + SESSION_TTL_MS }
      const body = `${session.expiresAtMs}.${session.id}`
      return { session, value: `${body}.${mac(body)}` }
    },
    verify(value, nowMs) {
      const m = value === undefined ? null : /^(\d{1,15})\.([\w-]{22})\.([\w-]{43})$/.exec(value)
      if (m === null || !secretsEqual(m[3], mac(`${m[1]}.${m[2]}`))) return null
      const expiresAtMs = Number(m[1])
      return expiresAtMs > nowMs ? { id: m[2], expiresAtMs } : null
    },
    csrfToken,
    isCsrfToken: (s, presented) => presented !== undefined && secretsEqual(presented, csrfToken(s)),
  }
}

/** The Set-Cookie header of a session (Secure when the console is served over TLS). */
export function sessionCookie(value: string, maxAgeMs: number, isSecure: boolean): string {
  return `${COOKIE}=${value}; Path=/ui; Max-Age=${Math.max(0, Math.floor(maxAgeMs / 1000))}; HttpOnly; SameSite=Strict${isSecure ? '; Secure' : ''}`
}

export function cookieOf(header: string | null, name: string): string | undefined {
  if (header === null) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

/**
 * A state-changing request must come from a page of this console: its Origin (or, if a browser sent none,
 * its Referer's origin) must be this server as the client addressed it (the Host header).
 */
export function isSameOrigin(headers: Headers, isSecure: boolean): boolean {
  const host = headers.get('host')
  if (host === null) return false
  const expected = `${isSecure ? 'https' : 'http'}://${host.toLowerCase()}`
  const origin = headers.get('origin')
  if (origin !== null) return origin.toLowerCase() === expected
  const referer = headers.get('referer')
  return referer !== null && URL.parse(referer)?.origin.toLowerCase() === expected
}
