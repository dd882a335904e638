import { createApp, LOOPBACK_NAMES } from './app.ts'
import { systemClock } from './clock.ts'
import { describeDriver, isLoopback, parseCli, UsageError, USAGE } from './cli.ts'
import { openDriver, StartupError } from './store/open.ts'
import { stderrLog as log } from './log.ts'
import { VERSION } from './version.ts'
import { createListener } from './listener.ts'
import { authMode } from './domain/auth.ts'
import { answerClientErrors } from './http/client-error.ts'

const SHUTDOWN_GRACE_MS = 10_000
const IDLE_SWEEP_MS = 50

async function main(): Promise<void> {
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
  // Never opts.db: a PostgreSQL URL holds its password.
  const durability = opts.driver.kind === 'sqlite' ? ` (durability ${opts.durability})` : ''
  log.info(`database: ${describeDriver(opts.driver)}${durability}`)
  const mtls = opts.tls !== null && opts.tls.clientCa !== null
  log.info(`API auth: ${authMode(opts.token, mtls)}`)
  let storage
  try {
    storage = await openDriver(opts.driver, { clock: systemClock, log, durability: opts.durability })
  } catch (err) {
    if (!(err instanceof StartupError)) throw err
    log.error(`docket: ${err.message}`)
    process.exit(err.exitCode)
  }
  // Bound to loopback, /mcp accepts only loopback Host and Origin names (and the bound address itself).
  const boundName = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const loopbackHosts = isLoopback(opts.host) ? [...new Set([...LOOPBACK_NAMES, boundName])] : null
  const docket = createApp({ driver: storage.driver, clock: systemClock, log, config: {
    token: opts.token, maxBodyBytes: opts.maxBodyBytes, mtls, mcpToolsets: opts.mcpToolsets, loopbackHosts,
    metricsPublic: opts.metricsPublic, durability: opts.driver.kind === 'sqlite' ? opts.durability : null,
  } })

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
      storage.close().then(() => {
        log.info('stopped')
        process.exit(0)
      }, (err) => {
        log.error('closing the database failed', err)
        process.exit(1)
      })
    })
    server.closeIdleConnections()
  }
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  process.on('SIGINT', () => shutdown('SIGINT'))
}

await main()
