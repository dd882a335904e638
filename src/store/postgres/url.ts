// What a postgres:// URL points at, for the startup line and error messages. Kept apart from connect.ts so
// that parsing the command line does not load the pg module, and so that no message is ever built from the
// URL itself: it may carry a password.

export type PgTarget = { host: string; port: number; database: string }

const SCHEME = /^postgres(?:ql)?:\/\//i

/** `--db` names PostgreSQL when it is a postgres:// or postgresql:// URL; anything else is a SQLite path. */
export const isPostgresUrl = (db: string): boolean => SCHEME.test(db)

/**
 * Host, port and database as node-postgres reads them (libpq's defaults: localhost, 5432, the database named
 * after the user; a `host` query parameter such as a socket directory wins over the URL's host). Throws an
 * Error whose message holds none of the URL.
 */
export function pgTarget(url: string): PgTarget {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    throw new Error('not a valid PostgreSQL URL (postgres://user:password@host:port/database)')
  }
  const port = u.port === '' ? 5432 : Number(u.port)
  const decode = (s: string) => { try { return decodeURIComponent(s) } catch { return s } }
  // An IPv6 hostname comes bracketed ([::1]); node-postgres connects to the bare address.
  const host = u.searchParams.get('host') ?? (decode(u.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost')
  const database = decode(u.pathname.replace(/^\//, '')) || decode(u.username) || 'postgres'
  return { host, port, database }
}

/** `postgres://host:port/database`: never the user name's password. */
export function describePgTarget(t: PgTarget): string {
  const host = t.host.includes(':') && !t.host.startsWith('/') ? `[${t.host}]` : t.host
  return `postgres://${host}:${t.port}/${t.database}`
}
