import Database from 'better-sqlite3'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'

export type Db = Database.Database
export type Durability = 'normal' | 'full'

const SCHEMA_PATH = new URL('../../../schema.sql', import.meta.url)

// A note on `= +@param` in the stores' SQL: this SQLite is built with STAT4, and a statement whose plan
// could depend on a bound value (an equality or range on an indexed column, with an ORDER BY the index
// may satisfy) is re-prepared on every execution — about 10–40 µs each. A unary plus on the parameter
// keeps the plan (the column's affinity still applies) and makes the statement prepare once.

export type Migration = { version: number; name: string; sql: string }

/** The numbered blocks of schema.sql, in order. */
export function loadMigrations(text = readFileSync(SCHEMA_PATH, 'utf8')): Migration[] {
  const parts = text.split(/^-- @migration (\d+): (.*)$/m)
  const migrations: Migration[] = []
  for (let i = 1; i < parts.length; i += 3) {
    migrations.push({ version: Number(parts[i]), name: parts[i + 1].trim(), sql: parts[i + 2] })
  }
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`schema.sql: migration ${m.version} out of order`)
  })
  return migrations
}

/** A database path that names a file (not `:memory:` or a `file:` URI). */
export const isFile = (path: string) => path !== ':memory:' && !path.startsWith('file:')

export function openDb(path: string, durability: Durability = 'normal'): Db {
  if (isFile(path)) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  db.pragma('temp_store = MEMORY')
  // 8 MiB of page cache. Every page written stays cached, so with 64 MiB OTLP ingest filled it all with span
  // pages: the otlp bench's plain phase peaked at 205–220 MB of RSS, against 140–150 with 8 MiB, and store search
  // at a million entries at 200 against 140. Nothing measured needs more: claim p50 with a million queued tasks
  // and search p50 at a million entries were no higher, beyond the noise, with 2, 8 or 16 MiB than with 64 (see
  // "Peak RSS" in bench/results/README.md). A miss costs a read from the OS page cache.
  db.pragma('cache_size = -8192')
  // Fewer, larger checkpoints: a checkpoint inside a request is the main source of claim p99.
  db.pragma('wal_autocheckpoint = 10000')
  migrate(db)
  // From here on nothing waits for a lock another process holds: a wait would block the event loop (every
  // request, timer and heartbeat). The writer retries on a timer; a read that meets the lock (rare in WAL
  // mode) answers 503.
  db.pragma('busy_timeout = 0')
  return db
}

export function migrate(db: Db, migrations = loadMigrations()): void {
  const current = db.pragma('user_version', { simple: true }) as number
  const latest = migrations.length
  if (current > latest) throw new Error(`database schema version ${current} is newer than this Docket (${latest})`)
  if (current === latest) return
  // A block may rebuild a table that others reference (SQLite's way to change a constraint), which needs
  // foreign keys off; they are checked before each block commits instead. The pragma is a no-op inside a
  // transaction, hence around the loop.
  const enforced = db.pragma('foreign_keys', { simple: true }) as number
  db.pragma('foreign_keys = OFF')
  try {
    for (const m of migrations.slice(current)) {
      db.transaction(() => {
        db.exec(m.sql)
        const violations = db.pragma('foreign_key_check') as unknown[]
        if (violations.length > 0) throw new Error(`migration ${m.version} (${m.name}) breaks ${violations.length} foreign keys`)
        db.pragma(`user_version = ${m.version}`)
      }).immediate()
    }
  } finally {
    db.pragma(`foreign_keys = ${enforced ? 'ON' : 'OFF'}`)
  }
}

/**
 * Checkpoints the WAL into the main file and closes. A checkpoint that cannot run (a full disk) loses
 * nothing: the WAL is kept and replayed at the next open. It is reported, not thrown, so a shutdown still
 * ends cleanly.
 */
export function closeDb(db: Db, warn: (message: string) => void = () => {}): void {
  if (!db.open) return
  try {
    db.pragma('wal_checkpoint(TRUNCATE)')
  } catch (err) {
    warn(`warning: the final WAL checkpoint failed (${(err as Error).message}); the WAL is kept and replayed at the next start, nothing is lost`)
  }
  db.close()
}
