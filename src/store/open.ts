// Opens the driver `--db` chose, with what each needs around it: SQLite's one-server guard and its final
// checkpoint, PostgreSQL's pool, migrations and LISTEN session.
import type { Clock } from '../clock.ts'
import type { Log } from '../log.ts'
import type { Driver } from './driver.ts'
import type { DriverChoice } from '../cli.ts'
import { closeDb, isFile, openDb, type Durability } from './sqlite/db.ts'
import { createSqliteDriver } from './sqlite/driver.ts'
import { lockDatabaseFile } from './sqlite/server-lock.ts'
import { DEFAULT_LOCK_TIMEOUT_MS } from './sqlite/writer.ts'
import { openPostgresDriver } from './postgres/driver.ts'
import { PgConnectError } from './postgres/connect.ts'

export type OpenDriver = { driver: Driver; close(): Promise<void> }

/** The database cannot be served: another Docket serves the SQLite file (exit 2), or PostgreSQL cannot be used (exit 1). */
export class StartupError extends Error {
  readonly exitCode: number

  constructor(message: string, exitCode: number) {
    super(message)
    this.exitCode = exitCode
  }
}

export async function openDriver(choice: DriverChoice, options: { clock: Clock; log: Log; durability: Durability }): Promise<OpenDriver> {
  const { clock, log } = options
  if (choice.kind === 'postgres') {
    try {
      const driver = await openPostgresDriver({ url: choice.url, poolSize: choice.poolSize, clock, log })
      return { driver, close: () => driver.close() }
    } catch (err) {
      if (err instanceof PgConnectError) throw new StartupError(err.message, 1)
      throw err
    }
  }
  // Held until close or the process ends (the kernel drops it however the process ends).
  const serverLock = isFile(choice.path) ? lockDatabaseFile(choice.path) : undefined
  if (serverLock === null) throw new StartupError(`another Docket server is already serving ${choice.path}: one server per database file`, 2)
  const db = openDb(choice.path, options.durability)
  const driver = createSqliteDriver(db, { clock, lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS })
  return {
    driver,
    async close() {
      await driver.close()
      closeDb(db, log.info)
      serverLock?.release()
    },
  }
}
