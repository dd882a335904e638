import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createServer, type Server, type Socket } from 'node:net'
import { freshDatabase } from '../../helpers/postgres.ts'
import { CONNECT_TIMEOUT_MS, createPool, openPool, PgConnectError } from '../../../src/store/postgres/connect.ts'
import { waitFor } from './wait.ts'

type Ctx = { url: string }
const test = suite<Ctx>('postgres connect', {} as Ctx)

test.before(async (ctx) => {
  ctx.url = await freshDatabase()
})

/** A TCP server that accepts connections and never says a word (a host that hangs mid-handshake). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => { sockets.add(s); s.on('error', () => {}) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }),
  }
}

async function openError(url: string, connectTimeoutMs?: number): Promise<{ error: PgConnectError; ms: number }> {
  const start = performance.now()
  try {
    const pool = await openPool(url, { size: 1, connectTimeoutMs })
    await pool.end()
  } catch (err) {
    assert.instance(err, PgConnectError)
    return { error: err as PgConnectError, ms: performance.now() - start }
  }
  throw new Error('openPool should have failed')
}

test('the default connect timeout ends a start against a dead host within 10 s', () => {
  assert.ok(CONNECT_TIMEOUT_MS <= 10_000)
})

test('a server that never answers: a clear error once the connect timeout passes, without the password', async () => {
  const silent = await silentServer()
  try {
    const { error, ms } = await openError(`postgres://docket:s3cret-pw@127.0.0.1:${silent.port}/db`, 300)
    assert.is(error.message, `cannot use PostgreSQL at postgres://127.0.0.1:${silent.port}/db: no answer within the connect timeout`)
    assert.ok(ms >= 250 && ms < 3_000, `${ms} ms`)
  } finally {
    await silent.close()
  }
})

test('a refused connection and a wrong password are clear errors naming host, port and database only', async ({ url }) => {
  const closed = await silentServer()
  await closed.close()
  const refused = await openError(`postgres://docket:s3cret-pw@127.0.0.1:${closed.port}/db`)
  assert.match(refused.error.message, `cannot use PostgreSQL at postgres://127.0.0.1:${closed.port}/db: `)
  assert.match(refused.error.message, 'ECONNREFUSED')
  const u = new URL(url)
  u.password = 's3cret-pw'
  const denied = await openError(u.href)
  assert.match(denied.error.message, /password authentication failed .*\(28P01\)$/)
  for (const e of [refused.error, denied.error]) assert.not.match(e.message, 's3cret')
})

test('int8 is read as a number; one past 2^53 stays the decimal text', async ({ url }) => {
  const pool = await openPool(url, { size: 1 })
  try {
    const { rows } = await pool.query(`SELECT 42::bigint AS n, count(*) AS c, 9007199254740993::bigint AS big, ARRAY[1, 2]::bigint[] AS list, '{"b":1,"a":2}'::json AS j`)
    assert.equal(rows, [{ n: 42, c: 1, big: '9007199254740993', list: [1, 2], j: '{"b":1,"a":2}' }])
  } finally {
    await pool.end()
  }
})

test('every pooled connection runs READ COMMITTED outside a transaction too, whatever the database default', async () => {
  const url = await freshDatabase()
  const admin = createPool(url, { size: 1 })
  await admin.query(`ALTER DATABASE "${new URL(url).pathname.slice(1)}" SET default_transaction_isolation = 'serializable'`)
  const pool = createPool(url, { size: 2 })
  try {
    const [a, b] = await Promise.all([pool.connect(), pool.connect()])
    try {
      for (const c of [a, b]) assert.equal((await c.query('SHOW transaction_isolation')).rows, [{ transaction_isolation: 'read committed' }])
    } finally {
      a.release()
      b.release()
    }
  } finally {
    await Promise.all([pool.end(), admin.end()])
  }
})

test('connections ended by the server, idle or checked out, are reported and replaced; nothing is thrown', async ({ url }) => {
  const errors: Error[] = []
  const pool = createPool(url, { size: 2, onError: (err) => errors.push(err) })
  const admin = createPool(url, { size: 1 })
  const held = await pool.connect()
  try {
    await pool.query('SELECT 1') // a second connection, idle in the pool afterwards
    await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
    // Each connection reports the server's 57P01, then maybe the socket's end.
    await waitFor(() => errors.filter((e) => (e as Error & { code?: string }).code === '57P01').length === 2, 5_000, `errors: ${errors.map((e) => e.message)}`)
    assert.ok(errors.every((e) => /administrator command|Connection terminated/.test(e.message)), errors.map((e) => e.message).join('; '))
    try {
      await held.query('SELECT 1')
      assert.unreachable('the held connection is gone')
    } catch (err) {
      assert.not.instance(err, assert.Assertion)
    }
    assert.equal((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }])
  } finally {
    held.release(true) // destroyed, not returned: pool.end() waits for every checked-out client
    await Promise.all([pool.end(), admin.end()])
  }
})

test.run()
