// Operators inspect Docket files with their distribution's sqlite3 (Debian 12: 3.40, Ubuntu 22.04: 3.37) and
// Python's sqlite3 module. SQLite parses every view and trigger of a file when it opens it, so one clause an
// older SQLite does not know makes every table unreadable (schema.sql, migration 6). This suite fills a
// database through a real server and reads it with those tools. .ci/run installs Debian's sqlite3.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, createPipeline, createTask, expectStatus, linearDefinition, unique } from '../helpers/fixtures.ts'

const SQLITE3 = '/usr/bin/sqlite3'
/** store_fts_recent is contentless_delete, an FTS5 option of SQLite 3.43 (README: Store). */
const CONTENTLESS_DELETE = [3, 43]
const MISSING = " is missing: install Debian's sqlite3 (apt-get install -y sqlite3; .ci/run does) to run this suite"

type Ctx = { s: TestServer; path: string; counts: Record<string, number> }
const WORD = 'stockword' // in every entry's title
const test = suite<Ctx>('stock sqlite3', {} as Ctx)

/** Puts, upserts and deletes that move a window of 8 entries several times; tasks, runs, events and spans. */
async function fillDatabase(s: TestServer): Promise<void> {
  s.db.prepare('UPDATE store_fts_recent_window SET cap = 8, slack = 2').run()
  const put = async (ns: string, key: string, value: unknown) =>
    expectStatus(await s.request('PUT', `/store/${ns}/${encodeURIComponent(key)}`, { value }), 204)
  for (let i = 0; i < 40; i++) {
    await put(i % 3 === 0 ? 'notes' : 'decisions', `k${i}`, { title: `${WORD} entry ${i}`, body: 'Ünïcode — text\nwith lines', n: [i, i / 3, { deep: [true, null, `x${i}`] }] })
  }
  for (const i of [1, 5, 36, 38]) await put(i % 3 === 0 ? 'notes' : 'decisions', `k${i}`, { title: `${WORD} replaced ${i}`, n: i * 1.5 })
  for (const i of [2, 7, 37]) expectStatus(await s.request('DELETE', `/store/decisions/k${i}`), 204)
  expectStatus(await s.request('DELETE', '/store/notes/k39'), 204)

  const work = unique('worker')
  const pipelineId = await createPipeline(s, linearDefinition({ work, review: unique('reviewer') }))
  const first = await createTask(s, pipelineId, { priority: 5 })
  await createTask(s, pipelineId, { dependencies: [first] })
  const assigned = await createTask(s, pipelineId)
  expectStatus(await s.request('POST', `/tasks/${assigned}/assignments`, { agent_id: 'ann' }), 201)
  const lease = (await claim(s, work))!
  const auth = bearer(lease.lease_token)
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/events`, { kind: 'progress', data: { pct: 50 } }, auth), 201)
  expectStatus(await s.request('POST', '/artifacts', { task_id: lease.task.id, run_id: lease.run.id, kind: 'log', uri: 'file:///log' }), 201)
  expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete' }, { ...auth, 'idempotency-key': unique('key') }), 200)
  const span = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', name: 'tool call', kind: 1, startTimeUnixNano: '1', endTimeUnixNano: '2' }
  const traces = { resourceSpans: [{ resource: { attributes: [{ key: 'docket.run_id', value: { stringValue: lease.run.id } }] }, scopeSpans: [{ spans: [span] }] }] }
  expectStatus(await s.request('POST', '/v1/traces', JSON.stringify(traces), { 'content-type': 'application/json' }), 200)
}

/** Every table and view but the FTS5 virtual tables (their shadow tables are plain tables, and included). */
function readableTables(s: TestServer): string[] {
  return s.db.prepare(`SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'
    AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name`).pluck().all() as string[]
}

const countAll = (tables: string[]) => tables.map((t) => `SELECT '${t}', count(*) FROM "${t}";`).join('\n')

/** Runs SQL in the stock CLI; returns its output lines (`a|b`) and whatever it wrote to stderr. */
function sqlite3(path: string, sql: string): { lines: string[]; stderr: string } {
  const r = spawnSync(SQLITE3, ['-batch', '-list', path], { input: sql, encoding: 'utf8', timeout: 10_000 })
  if (r.error !== undefined) throw new Error(`${SQLITE3}: ${r.error.message}${existsSync(SQLITE3) ? '' : MISSING}`)
  return { lines: r.stdout.split('\n').filter((l) => l !== ''), stderr: r.stderr }
}

const linesToCounts = (lines: string[]) => Object.fromEntries(lines.map((l) => l.split('|')).map(([t, n]) => [t, Number(n)]))

const versionOf = (text: string) => text.split('.').map(Number)
const atLeast = (v: number[], min: number[]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1])

test.before(async (ctx) => {
  ctx.s = await startServer()
  ctx.path = join(ctx.s.dir, 'docket.db')
  await fillDatabase(ctx.s)
  ctx.counts = Object.fromEntries(readableTables(ctx.s).map((t) => [t, ctx.s.db.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number]))
  // The server keeps the file open; the tools read the database and its WAL as any second reader would.
})
test.after((ctx) => ctx.s?.close())

test('/usr/bin/sqlite3 is installed', () => {
  assert.ok(existsSync(SQLITE3), `${SQLITE3}${MISSING}`)
})

test('the workload filled every table, moved the recent window and left rows to read', ({ counts, s }) => {
  for (const t of ['pipelines', 'stage_roles', 'tasks', 'stage_counts', 'runs', 'events', 'task_dependencies', 'task_assignments',
    'artifacts', 'idempotency_keys', 'otlp_batches', 'otlp_resources', 'spans', 'store', 'store_search_text', 'store_fts_recent_window']) {
    assert.ok(counts[t] > 0, `${t} is empty`)
  }
  assert.is(counts.store, 40 - 4)
  const window = s.db.prepare('SELECT lo, n FROM store_fts_recent_window').get() as { lo: number; n: number }
  assert.ok(window.lo > 20 && window.n <= 8, JSON.stringify(window))
})

test('stock sqlite3 opens the file and counts the rows of every table and view but the FTS5 tables', ({ path, counts }) => {
  const { lines, stderr } = sqlite3(path, `SELECT count(*) FROM tasks;\n${countAll(Object.keys(counts))}`)
  assert.is(stderr, '')
  assert.is(lines[0], String(counts.tasks))
  assert.equal(linesToCounts(lines.slice(1)), counts)
})

test('stock sqlite3 finds the file sound: integrity_check, foreign_key_check, and store_fts\'s own check', ({ path }) => {
  const { lines, stderr } = sqlite3(path, `PRAGMA integrity_check;\nPRAGMA foreign_key_check;\nINSERT INTO store_fts (store_fts) VALUES ('integrity-check');`)
  assert.is(stderr, '')
  assert.equal(lines, ['ok'])
})

test('stock sqlite3 searches store_fts; store_fts_recent needs SQLite 3.43 (contentless_delete)', ({ path, s }) => {
  const version = sqlite3(path, 'SELECT sqlite_version();').lines[0]
  const search = sqlite3(path, `SELECT count(*) FROM store_fts WHERE store_fts MATCH '${WORD}';`)
  assert.is(search.stderr, '')
  assert.equal(search.lines, [String(s.db.prepare('SELECT count(*) FROM store_fts WHERE store_fts MATCH ?').pluck().get(WORD))])
  const recent = sqlite3(path, `SELECT count(*) FROM store_fts_recent WHERE store_fts_recent MATCH '${WORD}';`)
  if (atLeast(versionOf(version), CONTENTLESS_DELETE)) {
    assert.is(recent.stderr, '')
  } else {
    assert.match(recent.stderr, /unrecognized option: "contentless_delete"/, `SQLite ${version}`)
  }
})

test('Python\'s sqlite3 module (if python3 is installed) counts the same rows and finds the file sound', ({ path, counts }) => {
  const script = `import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
tables = json.loads(sys.stdin.read())
print(json.dumps({"version": sqlite3.sqlite_version, "integrity": db.execute("PRAGMA integrity_check").fetchall(),
  "counts": {t: db.execute('SELECT count(*) FROM "%s"' % t).fetchone()[0] for t in tables}}))`
  const r = spawnSync('python3', ['-c', script, path], { input: JSON.stringify(Object.keys(counts)), encoding: 'utf8', timeout: 10_000 })
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return
  assert.is(r.stderr, '')
  const out = JSON.parse(r.stdout) as { version: string; integrity: unknown; counts: Record<string, number> }
  assert.equal(out.integrity, [['ok']], `SQLite ${out.version}`)
  assert.equal(out.counts, counts)
})

test.run()
