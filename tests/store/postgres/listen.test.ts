import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { freshDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { startListener, type Listener } from '../../../src/store/postgres/listen.ts'
import { waitFor } from './wait.ts'

type Ctx = { url: string; pool: pg.Pool; listener: Listener; errors: Error[] }
const test = suite<Ctx>('postgres listen', {} as Ctx)

test.before(async (ctx) => {
  ctx.url = await freshDatabase()
  ctx.pool = createPool(ctx.url, { size: 2 })
  ctx.errors = []
  ctx.listener = await startListener(ctx.url, { minBackoffMs: 20, maxBackoffMs: 100, onError: (err) => ctx.errors.push(err) })
})
test.after(async (ctx) => {
  await ctx.listener.close()
  await ctx.pool.end()
})

const listenerPids = (pool: pg.Pool) => pool.query<{ pid: number }>(
  `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()`)

test('a notification committed on another connection reaches the subscriber, payload exact (U+0000 included)', async ({ pool, listener }) => {
  const got: Array<string | null> = []
  const off = await listener.onNotify('docket_test', (p) => got.push(p))
  await pool.query("SELECT pg_notify('docket_test', $1)", ['task a\u0000b'])
  await waitFor(() => got.length === 1, 2_000, 'no notification')
  assert.equal(got, ['task a\u0000b'])
  off()
  await pool.query("SELECT pg_notify('docket_test', 'after')")
  await pool.query("SELECT pg_notify('docket_other', 'x')")
  await new Promise((resolve) => setTimeout(resolve, 50))
  assert.equal(got, ['task a\u0000b'])
})

test('a notification sent inside a transaction arrives only once it commits, and not at all on rollback', async ({ pool, listener }) => {
  const got: Array<string | null> = []
  await listener.onNotify('docket_tx', (p) => got.push(p))
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query("SELECT pg_notify('docket_tx', 'rolled back')")
    await client.query('ROLLBACK')
    await client.query('BEGIN')
    await client.query("SELECT pg_notify('docket_tx', 'committed')")
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(got, [])
    await client.query('COMMIT')
  } finally {
    client.release()
  }
  await waitFor(() => got.length === 1, 2_000, 'no notification')
  assert.equal(got, ['committed'])
})

test('the session ended by the server: reconnects, tells subscribers to re-check (null), and delivers again', async ({ pool, listener, errors }) => {
  const got: Array<string | null> = []
  await listener.onNotify('docket_re', (p) => got.push(p))
  const { rows } = await listenerPids(pool)
  assert.is(rows.length, 1)
  await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid])
  await waitFor(() => got.includes(null), 5_000, 'no re-check signal after the reconnect')
  assert.ok(listener.isConnected())
  assert.ok(errors.length > 0)
  await pool.query("SELECT pg_notify('docket_re', 'again')")
  await waitFor(() => got.includes('again'), 2_000, 'no notification after the reconnect')
  const after = await listenerPids(pool)
  assert.is(after.rows.length, 1, 'one listening session')
})

test('a channel subscribed around a reconnect is listened to on the new session', async ({ pool, listener }) => {
  const { rows } = await listenerPids(pool)
  await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid])
  const got: Array<string | null> = []
  await listener.onNotify('docket_late', (p) => got.push(p))
  // Sent until heard: whenever the reconnect happens, the channel must be listened to after it.
  await waitFor(async () => {
    await pool.query("SELECT pg_notify('docket_late', 'late')")
    return got.includes('late')
  }, 5_000, 'never heard on the new session')
})

test.run()
