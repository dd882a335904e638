// SQLite only: the recent-entries window is an FTS5 table of the SQLite schema; PostgreSQL searches one GIN index.
// The recent index (schema.sql: store_fts_recent): which entries it holds as entries come and go, and how
// search uses it. Each test starts its own Docket, most with a small window (the cap is a column). SQLite's
// own structure: with DOCKET_TEST_DRIVER=postgres this file runs nothing (PostgreSQL has no window).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, TEST_DRIVER, type TestServer } from '../helpers/server.ts'
import { expectStatus } from '../helpers/fixtures.ts'
import Database from 'better-sqlite3'
import { loadMigrations, migrate } from '../../src/store/sqlite/db.ts'
import { join } from 'node:path'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'

const test = suite('kv recent index')

async function withServer(cap: number | null, run: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await startServer()
  try {
    if (cap !== null) s.db.prepare('UPDATE store_fts_recent_window SET cap = ?, slack = 0').run(cap)
    await run(s)
  } finally {
    await s.close()
  }
}

const put = async (s: TestServer, ns: string, key: string, value: unknown) =>
  expectStatus(await s.request('PUT', `/store/${ns}/${key}`, { value }), 204)
const search = async (s: TestServer, query: Record<string, string>) =>
  expectStatus(await s.request('GET', `/store/search?${new URLSearchParams(query)}`), 200).body as Array<{ key: string; rank: number; snippet: string }>

/** The window row, and the ids the recent index finds for a word every entry holds. */
function recent(s: TestServer, word: string) {
  const window = s.db.prepare('SELECT lo, n, cap, slack FROM store_fts_recent_window').get() as { lo: number; n: number; cap: number; slack: number }
  const ids = s.db.prepare('SELECT rowid FROM store_fts_recent WHERE store_fts_recent MATCH ? ORDER BY rowid').pluck().all(word) as number[]
  return { ...window, ids }
}

function integrityCheck(s: TestServer): void {
  s.db.exec("INSERT INTO store_fts (store_fts, rank) VALUES ('integrity-check', 0)")
  s.db.exec("INSERT INTO store_fts_recent (store_fts_recent, rank) VALUES ('integrity-check', 0)")
}

test('the window holds exactly the newest `cap` entries through puts, upserts and deletes', () => withServer(4, async (s) => {
  for (let i = 1; i <= 6; i++) await put(s, 'ns', `k${i}`, `every entry ${i}`)
  assert.equal(recent(s, 'every'), { lo: 3, n: 4, cap: 4, slack: 0, ids: [3, 4, 5, 6] })
  await put(s, 'ns', 'k1', 'every entry, replaced while outside the window')
  await put(s, 'ns', 'k5', 'every entry, replaced inside it')
  expectStatus(await s.request('DELETE', '/store/ns/k4'), 204)
  assert.equal(recent(s, 'every'), { lo: 3, n: 3, cap: 4, slack: 0, ids: [3, 5, 6] })
  assert.equal(recent(s, 'inside').ids, [5])
  assert.equal(recent(s, 'outside').ids, [])
  // Two new entries: the first fills the window again, the second pushes the oldest (3) out.
  await put(s, 'ns', 'k7', 'every entry 7')
  await put(s, 'ns', 'k8', 'every entry 8')
  assert.equal(recent(s, 'every'), { lo: 5, n: 4, cap: 4, slack: 0, ids: [5, 6, 7, 8] })
  expectStatus(await s.request('DELETE', '/store/ns'), 204)
  assert.equal(recent(s, 'every'), { lo: 5, n: 0, cap: 4, slack: 0, ids: [] })
  integrityCheck(s)
}))

test('past cap, the oldest entries leave in one batch of slack + 1; a lowered cap takes effect at the next put', () => withServer(null, async (s) => {
  for (let i = 1; i <= 5; i++) await put(s, 'ns', `k${i}`, `every entry ${i}`)
  s.db.exec('UPDATE store_fts_recent_window SET cap = 4, slack = 2')
  await put(s, 'ns', 'k6', 'every entry 6')
  assert.equal(recent(s, 'every'), { lo: 5, n: 2, cap: 4, slack: 2, ids: [5, 6] })
  await put(s, 'ns', 'k7', 'every entry 7')
  await put(s, 'ns', 'k8', 'every entry 8')
  assert.equal(recent(s, 'every'), { lo: 5, n: 4, cap: 4, slack: 2, ids: [5, 6, 7, 8] })
  s.db.exec('UPDATE store_fts_recent_window SET cap = 2, slack = 0')
  await put(s, 'ns', 'k9', 'every entry 9')
  assert.equal(recent(s, 'every'), { lo: 8, n: 2, cap: 2, slack: 0, ids: [8, 9] })
  integrityCheck(s)
}))

test('when the window holds `limit` matches, search ranks there; with fewer, it searches every entry', () => withServer(3, async (s) => {
  await put(s, 'ns', 'old-best', 'needle needle needle needle')
  for (let i = 1; i <= 3; i++) await put(s, 'ns', `new${i}`, `needle in a longer text with other words ${i}`)
  // The window (the 3 newest) has 3 matches: enough for limit 2 or 3, so the older, better entry is not seen.
  assert.equal((await search(s, { q: 'needle', limit: '3' })).map((h) => h.key).sort(), ['new1', 'new2', 'new3'])
  // limit 4 is more than the window holds: every entry is searched, and the best comes first.
  const all = await search(s, { q: 'needle', limit: '4' })
  assert.equal(all.map((h) => h.key)[0], 'old-best')
  assert.is(all.length, 4)
  // A word only the old entry has, and a namespace only it is in, are found the same way.
  await put(s, 'other', 'x', 'needle')
  assert.equal((await search(s, { q: 'needle', namespace: 'other' })).map((h) => h.key), ['x'])
}))

test('a filter counts toward `limit` the same way: the window first, then every entry', () => withServer(3, async (s) => {
  await put(s, 'ns', 'old-best', { text: 'needle needle needle needle', status: 'open' })
  await put(s, 'ns', 'new-closed', { text: 'needle among other words', status: 'closed' })
  for (let i = 1; i <= 2; i++) await put(s, 'ns', `new-open${i}`, { text: `needle among other words ${i}`, status: 'open' })
  const open = (limit: string) => search(s, { q: 'needle', filter_path: '$.status', filter_value: 'open', limit })
  assert.equal((await open('2')).map((h) => h.key).sort(), ['new-open1', 'new-open2'])
  const all = await open('3') // the window holds only 2 open matches: every entry is searched
  assert.is(all[0].key, 'old-best')
  assert.equal(all.map((h) => h.key).sort(), ['new-open1', 'new-open2', 'old-best'])
  assert.ok(all.every((h) => h.snippet.includes('**needle**')), JSON.stringify(all))
}))

test('while the window holds every entry, ranking there gives the same hits as ranking every entry', () => withServer(null, async (s) => {
  const words = ['alpha', 'beta', 'gamma', 'delta']
  for (let i = 0; i < 40; i++) {
    const text = Array.from({ length: 3 + (i % 7) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' ')
    await put(s, i % 2 === 0 ? 'even' : 'odd', `k${i}`, { title: `entry ${i}`, body: text })
  }
  const queries: Record<string, string>[] = [{ q: 'alpha' }, { q: 'beta gamma' }, { q: 'delta', namespace: 'odd' }]
  for (const query of queries) {
    const everything = await search(s, { ...query, limit: '1000' }) // more than match: ranked in store_fts
    assert.ok(everything.length >= 5, JSON.stringify(query))
    for (const limit of [1, 5]) {
      assert.equal(await search(s, { ...query, limit: String(limit) }), everything.slice(0, limit), JSON.stringify(query))
    }
  }
}))

test('migration 4 indexes the newest 16,384 entries of an existing store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-recent-'))
  const db = new Database(join(dir, 'docket.db'))
  try {
    const migrations = loadMigrations()
    migrate(db, migrations.slice(0, 3))
    const insert = db.prepare('INSERT INTO store (namespace, key, value_json, created_at_ms, updated_at_ms) VALUES (?, ?, ?, 0, 0)')
    db.transaction(() => { for (let i = 1; i <= 16_386; i++) insert.run('ns', `k${i}`, JSON.stringify(`word ${i}`)) })()
    migrate(db, migrations)
    assert.equal(db.prepare('SELECT lo, n, cap, slack FROM store_fts_recent_window').get(), { lo: 3, n: 16_384, cap: 16_384, slack: 512 })
    const count = (q: string) => db.prepare('SELECT count(*) FROM store_fts_recent WHERE store_fts_recent MATCH ?').pluck().get(q)
    assert.is(count('word'), 16_384)
    assert.is(count('2'), 0)
    assert.is(count('3'), 1)
  } finally {
    db.close()
    rmSync(dir, { recursive: true, force: true })
  }
})

if (TEST_DRIVER === 'sqlite') test.run()
