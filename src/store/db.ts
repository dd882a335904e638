import Database from 'better-sqlite3'
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'

export type Db = Database.Database
export type Durability = 'normal' | 'full'

const SCHEMA_PATH = new URL('../../schema.sql', import.meta.url)

// Node 24.21 aborts the process when GC collects a better-sqlite3 Statement ("RemoveEnvironmentCleanupHook:
// Assertion failed: (env) != nullptr", from node::ObjectWrap's destructor). Until that is fixed no Statement may
// become garbage: every one prepared is kept, every Database too (it owns its transaction statements), and
// pragmas run through exec, which makes none.
const retained: object[] = []
const prepare = Database.prototype.prepare
Database.prototype.prepare = function (this: Database.Database, source: string) {
  const stmt = prepare.call(this, source)
  retained.push(stmt)
  return stmt
} as typeof prepare

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

export function openDb(path: string, durability: Durability = 'normal'): Db {
  if (path !== ':memory:' && !path.startsWith('file:')) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  retained.push(db)
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`)
  db.exec('PRAGMA foreign_keys = ON')
  db.exec('PRAGMA busy_timeout = 5000')
  db.exec('PRAGMA temp_store = MEMORY')
  db.exec('PRAGMA cache_size = -65536') // 64 MiB: keeps the claim and list indexes of a million tasks in memory
  // Fewer, larger checkpoints: a checkpoint inside a request is the main source of claim p99.
  db.exec('PRAGMA wal_autocheckpoint = 10000')
  migrate(db)
  return db
}

export function migrate(db: Db, migrations = loadMigrations()): void {
  const current = db.prepare('PRAGMA user_version').pluck().get() as number
  const latest = migrations.length
  if (current > latest) throw new Error(`database schema version ${current} is newer than this Docket (${latest})`)
  for (const m of migrations.slice(current)) {
    db.transaction(() => {
      db.exec(m.sql)
      db.exec(`PRAGMA user_version = ${m.version}`)
    }).immediate()
  }
}

export function closeDb(db: Db): void {
  if (!db.open) return
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  db.close()
}
