import { createServer, type Server } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { createApp, type AppConfig } from '../../src/app.ts'
import { manualClock, systemClock, type Clock, type ManualClock } from '../../src/clock.ts'
import { closeDb, openDb, type Db } from '../../src/store/sqlite/db.ts'
import { createSqliteDriver } from '../../src/store/sqlite/driver.ts'
import { openPostgresDriver } from '../../src/store/postgres/driver.ts'
import { postgresProbe, sqliteProbe, type Probe } from './sql.ts'
import { migratedDatabase } from './postgres.ts'
import type { Driver } from '../../src/store/driver.ts'
import { DEFAULT_LOCK_TIMEOUT_MS } from '../../src/store/sqlite/writer.ts'
import { silentLog, stderrLog, type Log } from '../../src/log.ts'
import { answerClientErrors } from '../../src/http/client-error.ts'

export type Res = { status: number; headers: Headers; text: string; body: any }

/** `driver` and `sql` (tests/helpers/sql.ts) reach the server's database, whichever driver it runs on. */
export type TestServer = Probe & {
  url: string
  clock: ManualClock
  /** The SQLite handle, for tests that are SQLite-only; it throws on PostgreSQL. */
  db: Db
  dir: string
  docket: ReturnType<typeof createApp>
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Res>
  close(): Promise<void>
}

/**
 * The driver a test server runs on: SQLite by default; DOCKET_TEST_DRIVER=postgres runs the same tests on a
 * real PostgreSQL (tests/helpers/postgres.ts: one cluster per run, a fresh migrated database per server).
 */
export const TEST_DRIVER: Driver['kind'] = process.env.DOCKET_TEST_DRIVER === 'postgres' ? 'postgres' : 'sqlite'

/** DOCKET_TEST_LOG=1 shows what test servers log as errors (a 500's stack, a driver's failure) on stderr. */
const log: Log = process.env.DOCKET_TEST_LOG === '1' ? { info: () => {}, error: stderrLog.error } : silentLog

/** A real Docket on an ephemeral port over a temp SQLite file (or a fresh PostgreSQL database), with a manual clock. */
export async function startServer(config: Partial<AppConfig> = {}, options: { realTime?: boolean; lockTimeoutMs?: number; log?: Log } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-test-'))
  // Long-poll tests need time to pass by itself; everything else moves a manual clock.
  const clock: ManualClock = options.realTime ? { ...systemClock, advance: () => {}, set: () => {} } : manualClock()
  const storage = TEST_DRIVER === 'postgres'
    ? await postgresStorage(clock)
    : sqliteStorage(join(dir, 'docket.db'), clock, options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS)
  const docket = createApp({ driver: storage.driver, clock, log: options.log ?? log, config, autoReap: false })
  const server: Server = createServer(docket.handler)
  answerClientErrors(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    clock,
    driver: storage.probe.driver,
    sql: storage.probe.sql,
    db: storage.db,
    dir,
    docket,
    request: (method, path, body, headers) => request(url, method, path, body, headers),
    async close() {
      docket.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

type Storage = { driver: Driver; db: Db; probe: Probe; close(): Promise<void> }

function sqliteStorage(path: string, clock: Clock, lockTimeoutMs: number): Storage {
  const db = openDb(path)
  const driver = createSqliteDriver(db, { clock, lockTimeoutMs })
  return { driver, db, probe: sqliteProbe(db), close: async () => closeDb(db) }
}

async function postgresStorage(clock: Clock): Promise<Storage> {
  const url = await migratedDatabase()
  const driver = await openPostgresDriver({ url, poolSize: 8, clock, log })
  const probe = postgresProbe(url)
  // A test that reads the SQLite file directly cannot run here: it says so instead of failing obscurely.
  const db = new Proxy({}, {
    get: () => { throw new Error('this test reads the SQLite database directly (s.db); make it driver-neutral or SQLite-only') },
  }) as Db
  return { driver, db, probe, close: async () => { await probe.close(); await driver.close() } }
}

/** A body that is a string or Buffer is sent as is; anything else as JSON. */
export async function request(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const raw = body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
  const res = await fetch(base + path, { method, body: raw as BodyInit | undefined, headers })
  const text = await res.text()
  let parsed: unknown = undefined
  try {
    parsed = text === '' ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, text, body: parsed }
}
