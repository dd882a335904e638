import { createApp } from './app.ts'
import { systemClock } from './clock.ts'
import { parseCli, UsageError, USAGE } from './cli.ts'
import { closeDb, isFile, openDb } from './store/sqlite/db.ts'
import { lockDatabaseFile } from './store/sqlite/server-lock.ts'
import { createSqliteDriver } from './store/sqlite/driver.ts'
import { DEFAULT_LOCK_TIMEOUT_MS } from './store/sqlite/writer.ts'
import { stderrLog as log } from './log.ts'
import { VERSION } from './version.ts'
import { createListener } from './listener.ts'
import { authMode } from './domain/auth.ts'
import { answerClientErrors } from './http/client-error.ts'

const SHUTDOWN_GRACE_MS = 10_000
const IDLE_SWEEP_MS = 50

function main(): void {
  let parsed
  try {
    parsed = parseCli(process.argv.slice(2), process.env)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`docket: ${err.message}\n${USAGE}\n`)
    process.exit(2)
  }
  if (parsed.kind === 'help') return void process.stdout.write(`${USAGE}\n`)
  if (parsed.kind === 'version') return void process.stdout.write(`docket ${VERSION}\n`)
  const opts = parsed.options

  log.info(`docket ${VERSION}`)
  log.info(`database: ${opts.db} (durability ${opts.durability})`)
  const mtls = opts.tls !== null && opts.tls.clientCa !== null
  log.info(`API auth: ${authMode(opts.token, mtls)}`)
  const serverLock = isFile(opts.db) ? lockDatabaseFile(opts.db) : undefined
  if (serverLock === null) {
    log.error(`docket: another Docket server is already serving ${opts.db}: one server per database file`)
    process.exit(2)
  }
  const db = openDb(opts.db, opts.durability)
  const driver = createSqliteDriver(db, { clock: systemClock, lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS })
  const docket = createApp({ driver, clock: systemClock, log, config: { token: opts.token, maxBodyBytes: opts.maxBodyBytes, mtls } })

  const server = createListener(opts, docket.handler)
  answerClientErrors(server)
  server.on('error', (err) => {
    log.error(`cannot listen on ${opts.host}:${opts.port}`, err)
    process.exit(1)
  })
  server.listen(opts.port, opts.host, () => {
    const address = server.address()
    const port = typeof address === 'object' && address ? address.port : opts.port
    const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
    log.info(`listening on ${opts.tls === null ? 'http' : 'https'}://${host}:${port}`)
  })

  let stopping = false
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: draining`)
    docket.close()
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS).unref()
    // server.close() drops only the connections idle right now; one that finishes its request later would
    // otherwise hold the exit for the whole keep-alive timeout.
    const reapIdle = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref()
    server.close(() => {
      clearTimeout(force)
      clearInterval(reapIdle)
      closeDb(db, log.info)
      serverLock?.release()
      log.info('stopped')
      process.exit(0)
    })
    server.closeIdleConnections()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

main()
