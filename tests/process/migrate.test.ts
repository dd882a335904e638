// Issue 14, item 5: `npm run migrate -- --from <sqlite> --to <postgres>` copies every table of a database a
// server is still serving into an empty PostgreSQL database, and refuses a target that is not empty.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { NODE, startProcess, tempDir, type DocketProcess } from '../helpers/process.ts'
import { bearer, expectStatus, unique } from '../helpers/fixtures.ts'
import { freshDatabase } from '../helpers/postgres.ts'
import { readableSpan } from '../helpers/otlp.ts'
import { createClient } from '../../src/store/postgres/connect.ts'
import { TABLES } from '../../src/store/copy.ts'

const MIGRATE = new URL('../../src/migrate.ts', import.meta.url).pathname
const test = suite('migrate SQLite to PostgreSQL (child processes)')

const runMigrate = (from: string, to: string) => spawnSync(NODE, [MIGRATE, '--from', from, '--to', to], { encoding: 'utf8', timeout: 60_000 })

/** Some of everything, through the API: pipelines, tasks with edges and assignments, a live lease, events, artifacts, store, spans. */
async function fill(p: DocketProcess): Promise<{ leaseRun: string; leaseToken: string }> {
  const role = unique('role')
  const definition = { initial: 'w', states: { w: { agent_role: role }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
  const pipelineId = expectStatus(await p.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
  const first = expectStatus(await p.request('POST', '/tasks', { pipeline_id: pipelineId, title: 'nul \u0000 and \u0001 in a title', description: 'ünïcødé' }), 201).body.id
  expectStatus(await p.request('POST', '/tasks/bulk', { tasks: Array.from({ length: 30 }, (_, i) => ({ pipeline_id: pipelineId, title: `t${i}`, description: '', dependencies: [first] })) }), 201)
  expectStatus(await p.request('POST', `/tasks/${first}/assignments`, { agent_id: 'a1' }), 201)
  const lease = expectStatus(await p.request('POST', '/leases/claim', { agent_id: 'a1', agent_role: role }, { 'idempotency-key': unique('k') }), 200).body
  expectStatus(await p.request('POST', `/runs/${lease.run.id}/events`, { kind: 'progress', data: { pct: 50, note: 'a\u0000b' } }, bearer(lease.lease_token)), 201)
  expectStatus(await p.request('POST', '/artifacts', { task_id: first, kind: 'file', uri: 'file:///x', meta: { a: 1 } }), 201)
  for (let i = 0; i < 20; i++) expectStatus(await p.request('PUT', `/store/notes/k${i}%00x`, { value: { text: `note ${i} about deploys`, n: i } }), 204)
  const schedule = { cron: '0 3 * * *', timezone: 'Europe/Stockholm', task: { pipeline_id: pipelineId, title: 'nightly {{scheduled_at}}' } }
  expectStatus(await p.request('PUT', '/schedules/nightly', schedule), 201)
  expectStatus(await p.request('POST', '/schedules/nightly/trigger'), 201)
  expectStatus(await p.request('POST', '/schedules/pause'), 200)
  const spans = Array.from({ length: 5 }, () => readableSpan({ resource: { 'docket.run_id': lease.run.id } }))
  const otlp = await fetch(`${p.url}/v1/traces`, { method: 'POST', body: Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!), headers: { 'content-type': 'application/x-protobuf' } })
  assert.is(otlp.status, 200)
  return { leaseRun: lease.run.id, leaseToken: lease.lease_token }
}

/** A table's rows in a form both databases give the same way: ids, text, numbers as text, bytes as hex. */
function sqliteRows(db: Database.Database, table: (typeof TABLES)[number]): string[] {
  const rows = db.prepare(`SELECT ${table.columns.join(', ')} FROM ${table.name} ORDER BY ${table.order}`).safeIntegers(true).raw(true).all() as unknown[][]
  return rows.map((r) => JSON.stringify(r.map((v, i) => normalize(v, (table.booleans ?? []).includes(table.columns[i])))))
}

async function postgresRows(client: pg.Client, table: (typeof TABLES)[number]): Promise<string[]> {
  const columns = table.columns.map((c) => table.as?.[c] ?? c)
  const order = table.order.replace('rowid', 'seq')
  const { rows } = await client.query({ text: `SELECT ${columns.join(', ')} FROM ${table.name} ORDER BY ${order}`, rowMode: 'array' })
  return rows.map((r: unknown[]) => JSON.stringify(r.map((v, i) => normalize(v, (table.booleans ?? []).includes(table.columns[i])))))
}

function normalize(v: unknown, isBoolean: boolean): unknown {
  if (isBoolean) return v === true || v === 1n || v === 1
  if (Buffer.isBuffer(v)) return `hex:${v.toString('hex')}`
  if (typeof v === 'bigint' || typeof v === 'number') return String(v)
  return v
}

test('a served database is copied table by table, row for row, and a second copy into the same target is refused', async () => {
  const tmp = tempDir()
  const file = join(tmp.dir, 'docket.db')
  const server = await startProcess(['--db', file])
  const to = await freshDatabase()
  const client = createClient(to)
  try {
    const filled = await fill(server)
    // The server keeps serving (and writing) during the copy: the copy reads one snapshot.
    const copy = runMigrate(file, to)
    assert.is(copy.status, 0, copy.stderr)
    assert.match(copy.stdout, /counts verified/)
    assert.not.match(copy.stdout + copy.stderr, /secret|password/)

    const { leaseRun, leaseToken } = filled
    const tasksBefore = expectStatus(await server.request('GET', '/tasks?limit=100'), 200).body
    const searchBefore = expectStatus(await server.request('GET', '/store/search?q=deploys&namespace=notes&limit=5'), 200).body
    const tallyBefore = taskGauges((await server.request('GET', '/metrics')).text)
    assert.ok(tallyBefore.length > 0, 'the scrape has task counts')
    await server.kill('SIGTERM')
    const source = new Database(file, { readonly: true })
    await client.connect()
    for (const table of TABLES) {
      assert.equal(await postgresRows(client, table), sqliteRows(source, table), table.name)
    }
    const next = await client.query('SELECT nextval(pg_get_serial_sequence($1, $2)) > (SELECT max(id) FROM events) AS ok', ['events', 'id'])
    assert.ok(next.rows[0].ok, 'new ids come after the copied ones')
    source.close()

    // The same answers from a Docket on the copy; the agent holding the lease goes on with its token.
    const moved = await startProcess(['--db', to])
    try {
      assert.equal(expectStatus(await moved.request('GET', '/tasks?limit=100'), 200).body, tasksBefore)
      const found = expectStatus(await moved.request('GET', '/store/search?q=deploys&namespace=notes&limit=5'), 200).body
      assert.equal(found.map((h: { key: string }) => h.key).sort(), searchBefore.map((h: { key: string }) => h.key).sort())
      // The trigger-kept counts /metrics reads are rebuilt from the copied rows.
      assert.equal(taskGauges((await moved.request('GET', '/metrics')).text), tallyBefore)
      const searched = expectStatus(await moved.request('GET', '/tasks?q=%C3%BCn%C3%AFc%C3%B8d%C3%A9'), 200).body.items
      assert.equal(searched.map((t: { title: string }) => t.title), ['nul \u0000 and \u0001 in a title'])
      assert.is(expectStatus(await moved.request('GET', '/schedules/state'), 200).body.paused, true)
      assert.is(expectStatus(await moved.request('GET', '/schedules/nightly/tasks'), 200).body.items.length, 1)
      expectStatus(await moved.request('POST', `/leases/${leaseRun}/heartbeat`, undefined, bearer(leaseToken)), 200)
      expectStatus(await moved.request('POST', `/runs/${leaseRun}/transition`, { trigger: 'go' }, bearer(leaseToken)), 200)
    } finally {
      await moved.kill('SIGTERM')
    }

    const again = runMigrate(file, to)
    assert.is(again.status, 2, again.stderr)
    assert.match(again.stderr, /not empty/)
  } finally {
    await server.kill('SIGTERM')
    await client.end().catch(() => {})
    tmp.remove()
  }
})

test('usage errors exit 2 without touching anything', () => {
  const noArgs = spawnSync(NODE, [MIGRATE], { encoding: 'utf8' })
  assert.is(noArgs.status, 2)
  assert.match(noArgs.stderr, /--from and --to/)
  const notPg = runMigrate('/nonexistent.db', 'postgres://x/y')
  assert.is(notPg.status, 2)
  assert.match(notPg.stderr, /no database at/)
})

test.run()

/** The docket_tasks samples of a scrape, sorted: counts by pipeline, stage and state. */
function taskGauges(scrape: string): string[] {
  return scrape.split('\n').filter((l) => l.startsWith('docket_tasks{')).sort()
}
