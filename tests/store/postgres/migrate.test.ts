import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { freshDatabase } from '../../helpers/postgres.ts'
import { loadMigrations, migrate, schemaVersion } from '../../../src/store/postgres/migrate.ts'
import { closeDb, openDb } from '../../../src/store/sqlite/db.ts'

const test = suite('postgres migrations')
const LATEST = loadMigrations().length

async function withPools<T>(n: number, url: string, use: (pools: pg.Pool[]) => Promise<T>): Promise<T> {
  const pools = Array.from({ length: n }, () => new pg.Pool({ connectionString: url, max: 1 }))
  try {
    return await use(pools)
  } finally {
    await Promise.all(pools.map((p) => p.end()))
  }
}

test('schema.postgres.sql is numbered blocks 1..N in order', () => {
  assert.equal(loadMigrations().map((m) => m.version), Array.from({ length: LATEST }, (_, i) => i + 1))
})

test('4 nodes migrating an empty database at once: each block applied once, one set of tables, no error', async () => {
  const url = await freshDatabase()
  await withPools(4, url, async (pools) => {
    const applied = await Promise.all(pools.map((p) => migrate(p)))
    assert.equal(applied.flat().sort(), Array.from({ length: LATEST }, (_, i) => i + 1))
    assert.is(await schemaVersion(pools[0]), LATEST)
    const { rows } = await pools[0].query('SELECT version, name FROM docket_migrations ORDER BY version')
    assert.equal(rows, loadMigrations().map((m) => ({ version: m.version, name: m.name })))
    const tables = await pools[0].query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'tasks'`)
    assert.is(tables.rows[0].n, 1)
  })
})

test('a migrated database is left alone at the next start', async () => {
  const url = await freshDatabase()
  await withPools(1, url, async ([pool]) => {
    assert.is(await schemaVersion(pool), 0)
    await migrate(pool)
    assert.equal(await migrate(pool), [])
  })
})

test('a database migrated by a newer Docket is refused, not changed', async () => {
  const url = await freshDatabase()
  await withPools(1, url, async ([pool]) => {
    await migrate(pool)
    await pool.query(`INSERT INTO docket_migrations (version, name) VALUES (${LATEST + 1}, 'from the future')`)
    try {
      await migrate(pool)
      assert.unreachable('a newer schema must be refused')
    } catch (err) {
      assert.match((err as Error).message, `database schema version ${LATEST + 1} is newer than this Docket (${LATEST})`)
    }
  })
})

test('a block that fails leaves nothing of itself behind, and the version where it was', async () => {
  const url = await freshDatabase()
  await withPools(1, url, async ([pool]) => {
    const broken = [...loadMigrations(), { version: LATEST + 1, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT 1/0;' }]
    try {
      await migrate(pool, broken)
      assert.unreachable('division by zero')
    } catch (err) {
      assert.match((err as Error).message, 'division by zero')
    }
    assert.is(await schemaVersion(pool), LATEST)
    const { rows } = await pool.query("SELECT to_regclass('half_done') AS t")
    assert.is(rows[0].t, null)
  })
})

// The two drivers answer from the same tables: a table (or column) added to one schema must be added to the
// other. PostgreSQL-only columns are listed here, with why.
const PG_ONLY: Record<string, string[]> = {
  stage_counts: ['shard'], // one stage's count spread over 16 rows (schema.postgres.sql)
  task_counts: ['shard'], // the same, per (pipeline, stage, state)
  task_dependencies: ['seq'], // SQLite's rowid
  task_assignments: ['seq'],
  idempotency_keys: ['path_hash'],
  otlp_resources: ['attributes_hash'],
  store: ['search'],
}

test('the PostgreSQL tables and columns are those of schema.sql (SQLite-only search tables aside)', async () => {
  const url = await freshDatabase()
  await withPools(1, url, async ([pool]) => {
    await migrate(pool)
    const { rows } = await pool.query<{ table_name: string; column_name: string }>(`
      SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name <> 'docket_migrations' ORDER BY table_name, ordinal_position`)
    const pgColumns = new Map<string, string[]>()
    for (const r of rows) pgColumns.set(r.table_name, [...(pgColumns.get(r.table_name) ?? []), r.column_name])
    // Each driver's task search index is its own (SQLite: tasks_fts and its rowids; PostgreSQL: task_search).
    pgColumns.delete('task_search')
    const sqliteColumns = sqliteTables()
    sqliteColumns.delete('task_search_ids')
    assert.equal([...pgColumns.keys()].sort(), [...sqliteColumns.keys()].sort())
    for (const [table, columns] of pgColumns) {
      assert.equal(columns.filter((c) => !(PG_ONLY[table] ?? []).includes(c)).sort(), sqliteColumns.get(table)!.sort(), table)
    }
  })
})

/** schema.sql's tables and columns, read from an in-memory SQLite it built; FTS5 tables and their shadows left out. */
function sqliteTables(): Map<string, string[]> {
  const db = openDb(':memory:')
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'store_fts%' AND name NOT LIKE 'tasks_fts%' AND name NOT LIKE 'sqlite_%'`).pluck().all() as string[]
    return new Map(tables.map((t) => [t, db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t) as string[]]))
  } finally {
    closeDb(db)
  }
}

test.run()
