// Brings a PostgreSQL database to the schema of schema.postgres.sql. Every node runs this at start; an
// advisory lock makes them take turns, so N nodes starting together apply each block exactly once.
import { readFileSync } from 'node:fs'
import type pg from 'pg'

const SCHEMA_PATH = new URL('../../../schema.postgres.sql', import.meta.url)

// Any fixed bigint will do: advisory locks are per database, and nothing else in Docket takes this one.
// ('docket' in ASCII.)
export const MIGRATION_LOCK = 0x646f636b6574

export type Migration = { version: number; name: string; sql: string }

/** The numbered blocks of schema.postgres.sql, in order (the same format as schema.sql's). */
export function loadMigrations(text = readFileSync(SCHEMA_PATH, 'utf8')): Migration[] {
  const parts = text.split(/^-- @migration (\d+): (.*)$/m)
  const migrations: Migration[] = []
  for (let i = 1; i < parts.length; i += 3) migrations.push({ version: Number(parts[i]), name: parts[i + 1].trim(), sql: parts[i + 2] })
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`schema.postgres.sql: migration ${m.version} out of order`)
  })
  return migrations
}

/**
 * Applies the blocks the database lacks, each in its own transaction that first takes the migration lock
 * (pg_advisory_xact_lock: released by the COMMIT or ROLLBACK, so a node that dies mid-way holds nothing) and
 * then reads the version again: a node that waited finds the block applied and moves on. Returns the
 * versions this call applied.
 */
export async function migrate(pool: pg.Pool, migrations = loadMigrations()): Promise<number[]> {
  const applied: number[] = []
  const client = await pool.connect()
  try {
    for (const m of migrations) {
      await client.query('BEGIN')
      try {
        // Literals in the blocks are read as standard SQL strings whatever the server's default.
        await client.query('SET LOCAL standard_conforming_strings = on')
        await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
        await client.query(`CREATE TABLE IF NOT EXISTS docket_migrations (
          version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
        const current = await versionOf(client)
        if (current > migrations.length) throw new Error(`database schema version ${current} is newer than this Docket (${migrations.length})`)
        if (current < m.version) {
          await client.query(m.sql)
          await client.query('INSERT INTO docket_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
          applied.push(m.version)
        }
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      }
    }
  } finally {
    client.release()
  }
  return applied
}

/** The schema version of a database: 0 when it has none yet. */
export async function schemaVersion(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('docket_migrations')::text AS t")
  return rows[0].t === null ? 0 : versionOf(db)
}

async function versionOf(db: pg.Pool | pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ v: number | null }>('SELECT max(version) AS v FROM docket_migrations')
  return rows[0].v ?? 0
}
