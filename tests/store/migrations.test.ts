import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDb, loadMigrations, migrate, openDb, type Db } from '../../src/store/sqlite/db.ts'

type Ctx = { dir: string }
const test = suite<Ctx>('migrations', {} as Ctx)
test.before((ctx) => { ctx.dir = mkdtempSync(join(tmpdir(), 'docket-migrations-')) })
test.after((ctx) => rmSync(ctx.dir, { recursive: true, force: true }))

let n = 0
const fresh = (ctx: Ctx) => join(ctx.dir, `db-${++n}.sqlite`)

/** Everything that makes up a schema: tables, indexes, triggers with their SQL, and the version. */
function schemaOf(db: Db): unknown {
  return {
    version: db.pragma('user_version', { simple: true }),
    objects: db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all(),
  }
}

test('a new database is at the latest version', (ctx) => {
  const db = openDb(fresh(ctx))
  assert.is(db.pragma('user_version', { simple: true }), loadMigrations().length)
  closeDb(db)
})

test('a database migrated block by block equals a fresh one', (ctx) => {
  const migrations = loadMigrations()
  const path = fresh(ctx)
  // Each step is a separate start of an older Docket that knew only the first k blocks.
  for (let k = 1; k <= migrations.length; k++) {
    const older = new Database(path)
    migrate(older, migrations.slice(0, k))
    assert.is(older.pragma('user_version', { simple: true }), k)
    older.close()
  }
  const reopened = new Database(path)
  migrate(reopened, migrations)
  const db = openDb(fresh(ctx))
  assert.equal(schemaOf(reopened), schemaOf(db))
  reopened.close()
  closeDb(db)
})

test('re-opening a database changes nothing and keeps its rows', (ctx) => {
  const path = fresh(ctx)
  const first = openDb(path)
  first.prepare("INSERT INTO pipelines (id, name, definition_json, created_at_ms) VALUES ('p', 'n', '{}', 1)").run()
  const before = schemaOf(first)
  closeDb(first)
  const second = openDb(path)
  assert.equal(schemaOf(second), before)
  assert.is(second.prepare('SELECT count(*) FROM pipelines').pluck().get(), 1)
  closeDb(second)
})

test('rebuilding the runs table (5) keeps its rows and the events and artifacts that point at them', (ctx) => {
  const migrations = loadMigrations()
  const path = fresh(ctx)
  const older = new Database(path)
  older.pragma('foreign_keys = ON')
  migrate(older, migrations.slice(0, 4))
  older.exec(`
    INSERT INTO pipelines (id, name, definition_json, created_at_ms) VALUES ('p', 'n', '{}', 1);
    INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version,
      next_eligible_at_ms, retry_delay_ms, created_at_ms, updated_at_ms) VALUES ('t', 'p', 's', '', '', 0, '{}', 1, 0, 0, 1, 1);
    INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash, lease_ttl_ms,
      lease_expires_at_ms) VALUES ('r', 't', 1, 'running', 'a', 'role', 1, x'00', 1000, 1001);
    INSERT INTO events (run_id, ts_ms, kind, data_json) VALUES ('r', 1, 'progress', '{}');
    INSERT INTO artifacts (id, task_id, run_id, created_at_ms, kind, uri, meta_json) VALUES ('a', 't', 'r', 1, 'k', 'u', '{}');`)
  migrate(older, migrations)
  assert.is(older.pragma('foreign_keys', { simple: true }), 1, 'foreign keys are on again')
  assert.equal(older.pragma('foreign_key_check'), [])
  assert.is(older.prepare("SELECT lease_expires_at_ms FROM runs WHERE id = 'r'").pluck().get(), 1001)
  older.prepare("UPDATE runs SET status = 'released' WHERE id = 'r'").run()
  assert.throws(() => older.prepare("DELETE FROM runs WHERE id = 'r'").run(), /FOREIGN KEY/)
  older.close()
})

test('migration 6 keeps the store text byte for byte; entries indexed before it are replaced and deleted without stray terms', (ctx) => {
  const migrations = loadMigrations()
  const db = new Database(fresh(ctx))
  migrate(db, migrations.slice(0, 5))
  db.prepare('UPDATE store_fts_recent_window SET cap = 64, slack = 8').run()
  // Values of every shape, indexed by migration 3's triggers (group_concat(… ORDER BY id)), with nesting,
  // Unicode, numbers SQLite prints its own way (1e300, 0.1, -0) and strings with newlines.
  const values = [...fc.sample(fc.jsonValue({ stringUnit: 'binary' }), { seed: 6, numRuns: 300 }),
    { a: [1e300, 0.1, -0, 2 ** 53 + 1], b: { c: 'x\ny', d: [null, true, 'z'] } }, [], {}, 'plain', 7]
  const insert = db.prepare('INSERT INTO store (namespace, key, value_json, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 0, 0)')
  db.transaction(() => values.forEach((v, i) => insert.run(`ns${i % 4}`, `k${i}`, JSON.stringify(v))))()
  const texts = () => db.prepare('SELECT id, text FROM store_search_text ORDER BY id').all()
  const before = texts()
  migrate(db, migrations)
  assert.equal(texts(), before)

  // FTS5's integrity-check of an external-content table reads only the index (FTS5 cannot scan this view:
  // json_tree is a virtual table), so a 'delete' given other text than was indexed passes it and leaves
  // stray terms behind. Every (term, entry, column, position) of store_fts must be what indexing the
  // view's text afresh gives.
  db.exec(`CREATE VIRTUAL TABLE temp.afresh USING fts5(namespace, key, text, ns_tag, tokenize = 'unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE temp.indexed_terms USING fts5vocab(main, store_fts, instance);
    CREATE VIRTUAL TABLE temp.afresh_terms USING fts5vocab(temp, afresh, instance);`)
  const terms = (vocab: string) => db.prepare(`SELECT term, doc, col, offset FROM temp.${vocab} ORDER BY 1, 2, 3, 4`).raw().all()
  const checkIndexes = () => {
    db.exec("INSERT INTO store_fts (store_fts) VALUES ('integrity-check')")
    db.exec("INSERT INTO store_fts_recent (store_fts_recent) VALUES ('integrity-check')")
    db.exec('DELETE FROM temp.afresh; INSERT INTO temp.afresh (rowid, namespace, key, text, ns_tag) SELECT * FROM store_search_text')
    assert.equal(terms('indexed_terms'), terms('afresh_terms'))
  }
  checkIndexes()
  const update = db.prepare("UPDATE store SET value_json = json_object('v', ?) WHERE key = ?")
  const remove = db.prepare('DELETE FROM store WHERE key = ?')
  db.transaction(() => values.forEach((_, i) => {
    if (i % 3 === 0) update.run(`replaced ${i}`, `k${i}`)
    else if (i % 3 === 1) remove.run(`k${i}`)
  }))()
  checkIndexes()
  assert.is(db.prepare("SELECT count(*) FROM store_fts WHERE store_fts MATCH 'replaced'").pluck().get(), Math.ceil(values.length / 3))
  db.close()
})

test('a database newer than this Docket is refused', (ctx) => {
  const path = fresh(ctx)
  const raw = new Database(path)
  raw.pragma(`user_version = ${loadMigrations().length + 1}`)
  raw.close()
  assert.throws(() => openDb(path), /newer/)
})

test('schema.sql blocks must be numbered in order', () => {
  assert.throws(() => loadMigrations('-- @migration 1: a\nSELECT 1;\n-- @migration 3: c\nSELECT 1;\n'), /out of order/)
  assert.equal(loadMigrations('-- @migration 1: a\nSELECT 1;\n').map((m) => [m.version, m.name]), [[1, 'a']])
})

test('a failing block leaves the database at the previous version', (ctx) => {
  const db = new Database(fresh(ctx))
  const broken = [...loadMigrations(), { version: loadMigrations().length + 1, name: 'broken', sql: 'CREATE TABLE zz (a); SELECT * FROM nowhere;' }]
  assert.throws(() => migrate(db, broken))
  assert.is(db.pragma('user_version', { simple: true }), broken.length - 1)
  assert.is(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'zz'").pluck().get(), 0)
  db.close()
})

test.run()
