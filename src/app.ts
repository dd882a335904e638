import { createServerAdapter } from '@whatwg-node/server'
import type { Clock } from './clock.ts'
import type { Log } from './log.ts'
import type { Driver } from './store/driver.ts'
import { createCommit, type Commit } from './http/commit.ts'
import { createRouter, type ServerContext } from './http/router.ts'
import type { Route } from './http/route.ts'
import { metaRoutes } from './http/routes/meta.ts'
import { pipelineRoutes } from './http/routes/pipelines.ts'
import { taskRoutes } from './http/routes/tasks.ts'
import { linkRoutes } from './http/routes/links.ts'
import { leaseRoutes } from './http/routes/leases.ts'
import { runRoutes } from './http/routes/runs.ts'
import { artifactRoutes } from './http/routes/artifacts.ts'
import { opsRoutes } from './http/routes/ops.ts'
import { controlRoutes } from './http/routes/control.ts'
import { createReaper } from './reaper.ts'
import { createWaiters, type Waiters } from './http/waiters.ts'
import { otlpRoutes } from './http/routes/otlp.ts'
import { kvRoutes } from './http/routes/kv.ts'
import { mcpRoutes } from './http/routes/mcp.ts'
import { createMcpEndpoint, type McpEndpoint } from './mcp/http.ts'
import type { Toolset } from './mcp/session.ts'
import { VERSION } from './version.ts'
import { metricsRoutes } from './http/routes/metrics.ts'
import { probeRoutes } from './http/routes/probes.ts'
import { withAccess } from './http/route.ts'
import { createInstruments, type Instruments } from './metrics/instruments.ts'

export type AppConfig = {
  token: string | null
  maxBodyBytes: number
  version: string
  /** Every client presented a certificate the TLS layer checked (mTLS); only reported, the handshake enforces it. */
  mtls: boolean
  /** The MCP tools offered at /mcp (agent always; admin adds the operator tools). */
  mcpToolsets: ReadonlySet<Toolset>
  /** Host and Origin names /mcp accepts (bound to loopback), or null to accept any (bound elsewhere). */
  mcpAllowedHosts: string[] | null
  /** GET /metrics without the API token (--metrics-public): for a scraper inside a trusted network. */
  metricsPublic: boolean
  /** SQLite's --durability, reported by /info; null on PostgreSQL (the server's own settings decide). */
  durability: 'normal' | 'full' | null
}

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']

export const DEFAULT_CONFIG: AppConfig = {
  token: null, maxBodyBytes: 1024 * 1024, version: VERSION, mtls: false, mcpToolsets: new Set(['agent']), mcpAllowedHosts: LOOPBACK_NAMES,
  metricsPublic: false, durability: null,
}

/** What every handler gets: the driver, the clock, the configuration and the one way to commit a change. */
export type App = {
  driver: Driver
  clock: Clock
  config: AppConfig
  commit: Commit
  waiters: Waiters
  log: Log
  mcp: McpEndpoint
  metrics: Instruments
  /** Set once shutdown begins: /ready answers 503 from then on. */
  lifecycle: { isStopping: boolean }
}

export const ROUTES: Route[] = [
  ...metaRoutes, ...pipelineRoutes, ...taskRoutes, ...linkRoutes, ...controlRoutes,
  ...leaseRoutes, ...runRoutes, ...artifactRoutes, ...opsRoutes, ...otlpRoutes, ...kvRoutes, ...mcpRoutes,
  ...metricsRoutes, ...probeRoutes,
]

/** The routes as configured: --metrics-public opens /metrics to anyone. */
function routesFor(config: AppConfig): Route[] {
  return config.metricsPublic ? ROUTES.map((r) => r.path === '/metrics' ? withAccess(r, 'public') : r) : ROUTES
}

const IDEMPOTENCY_SWEEP_MS = 60 * 60 * 1000

export function createApp(options: { driver: Driver; clock: Clock; log: Log; config?: Partial<AppConfig>; autoReap?: boolean }) {
  const { driver, log } = options
  const config = { ...DEFAULT_CONFIG, ...options.config }
  // A change that had to wait for storage runs as of its arrival (see Driver.lateChangeTime).
  const clock: Clock = { now: () => driver.lateChangeTime() ?? options.clock.now() }
  const waiters = createWaiters(clock, (role) => driver.reads.claimants(role, clock.now()))
  driver.watch({ eligibleAt: (atMs) => waiters.wakeAt(atMs), remoteWrite: () => waiters.poke() })
  const commit = createCommit(driver, waiters.poke)
  // The MCP tools call the API through the router (bound below), exactly as a client over HTTP would.
  const mcp = createMcpEndpoint({ clock, log, apiToken: config.token, toolsets: config.mcpToolsets, callRoute: (r) => router.call(r) })
  const metrics = createInstruments()
  const app: App = { driver, clock, config, log, commit, waiters, mcp, metrics, lifecycle: { isStopping: false } }
  const router = createRouter(routesFor(config), app)
  const adapter = createServerAdapter<ServerContext>(router.handle)

  // Background writes skip their turn while storage is busy.
  const sweep = () => driver.tryWrite((c) => c.sweepAnswers(clock.now()))?.catch((err) => log.error('idempotency sweep failed', err))
  const sweepTimer = setInterval(sweep, IDEMPOTENCY_SWEEP_MS).unref()
  const reaper = createReaper({ driver, clock, log, onReaped: (n) => { metrics.leaseExpirations.inc(n); waiters.poke() } })
  if (options.autoReap !== false) reaper.start()

  return {
    app,
    /** A node:http request listener. */
    handler: adapter,
    sweepIdempotency: sweep,
    reaper,
    /** Stops timers and answers every waiting claim 204; the caller closes the server and the driver. */
    close(): void {
      app.lifecycle.isStopping = true
      clearInterval(sweepTimer)
      reaper.stop()
      waiters.close()
      void mcp.close()
    },
  }
}
