// `npm run migrate` (src/store/copy.ts) must move every table a new migration adds: a table it does not know
// would be left behind in silence. Each table of the schema is copied, or named here with why it is not.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closeDb, migrate, openDb } from '../../src/store/sqlite/db.ts'
import { TABLES } from '../../src/store/copy.ts'

const NOT_COPIED: Record<string, string> = {
  stage_counts: 'kept by triggers on PostgreSQL from the copied tasks',
  task_counts: 'kept by triggers on PostgreSQL from the copied tasks',
  task_search_ids: "the integer ids of SQLite's tasks_fts; PostgreSQL indexes copied tasks itself (task_search, at start)",
  schedule_control: 'a single row, copied on its own (copyScheduleControl)',
}
/** FTS5 tables and their shadow tables: PostgreSQL derives its search columns from the copied rows. */
const isFullTextIndex = (name: string) => /_fts(_|$)/.test(name)

const test = suite('copy: every table')

test('every table of the SQLite schema is copied, derived, or named as not copied', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-copy-tables-'))
  const db = openDb(join(dir, 'docket.db'))
  try {
    migrate(db)
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>)
      .map((r) => r.name)
    const copied = new Set(TABLES.map((t) => t.name))
    const left = tables.filter((t) => !copied.has(t) && !(t in NOT_COPIED) && !isFullTextIndex(t))
    assert.equal(left, [], `tables npm run migrate would leave behind: ${left.join(', ')}`)
  } finally {
    closeDb(db)
    rmSync(dir, { recursive: true, force: true })
  }
})

test.run()
