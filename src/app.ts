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
import { createTaskWatch, type TaskWatch } from './http/task-watch.ts'
import { isTerminalStage } from './domain/pipeline.ts'
import { otlpRoutes } from './http/routes/otlp.ts'
import { kvRoutes } from './http/routes/kv.ts'
import { mcpRoutes } from './http/routes/mcp.ts'
import { lifecycleRoutes } from './http/routes/lifecycle.ts'
import { bulkRoutes } from './http/routes/bulk.ts'
import { scheduleRoutes } from './http/routes/schedules.ts'
import { scheduleControlRoutes } from './http/routes/schedule-control.ts'
import { createScheduler, type Scheduler } from './schedules/timer.ts'
import { createMcpEndpoint, type McpEndpoint } from './mcp/http.ts'
import type { Toolset } from './mcp/session.ts'
import { VERSION } from './version.ts'
import { isConsolePath } from './ui/paths.ts'
import { metricsRoutes } from './http/routes/metrics.ts'
import { probeRoutes } from './http/routes/probes.ts'
import { withAccess } from './http/route.ts'
import { createInstruments, type Instruments } from './metrics/instruments.ts'
import { observeReaped } from './metrics/runs.ts'

export type AppConfig = {
  token: string | null
  maxBodyBytes: number
  version: string
  /** Every client presented a certificate the TLS layer checked (mTLS); only reported, the handshake enforces it. */
  mtls: boolean
  /** The MCP tools offered at /mcp (agent always; admin adds the operator tools). */
  mcpToolsets: ReadonlySet<Toolset>
  /**
   * Host and Origin names /mcp and the console accept when bound to loopback (a web page cannot reach them by
   * DNS rebinding), or null to accept any (bound elsewhere).
   */
  loopbackHosts: string[] | null
  /** GET /metrics without the API token (--metrics-public): for a scraper inside a trusted network. */
  metricsPublic: boolean
  /** SQLite's --durability, reported by /info; null on PostgreSQL (the server's own settings decide). */
  durability: 'normal' | 'full' | null
}

export const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']

export const DEFAULT_CONFIG: AppConfig = {
  token: null, maxBodyBytes: 1024 * 1024, version: VERSION, mtls: false, mcpToolsets: new Set(['agent']), loopbackHosts: LOOPBACK_NAMES,
  metricsPublic: false, durability: null,
}

/** What every handler gets: the driver, the clock, the configuration and the one way to commit a change. */
export type App = {
  driver: Driver
  clock: Clock
  config: AppConfig
  commit: Commit
  waiters: Waiters
  /** GET /tasks/{id}/wait: requests waiting for a task's outcome. */
  taskWatch: TaskWatch
  log: Log
  mcp: McpEndpoint
  scheduler: Scheduler
  metrics: Instruments
  /** Set once shutdown begins: /ready answers 503 from then on. */
  lifecycle: { isStopping: boolean }
}

export const ROUTES: Route[] = [
  ...metaRoutes, ...pipelineRoutes, ...bulkRoutes, ...taskRoutes, ...lifecycleRoutes, ...linkRoutes, ...controlRoutes,
  ...leaseRoutes, ...runRoutes, ...artifactRoutes, ...opsRoutes, ...otlpRoutes, ...kvRoutes, ...mcpRoutes,
  ...scheduleControlRoutes, ...scheduleRoutes,
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
  const taskWatch = createTaskWatch(
    (ids) => driver.reads.tasksByIds(ids),
    async (task, stage) => task.dead_letter_reason !== null || task.stage === stage ||
      isTerminalStage((await driver.reads.compiledPipeline(task.pipeline_id))!, task.stage),
    (err) => log.error('task wait check failed', err),
  )
  driver.watch({ eligibleAt: (atMs) => waiters.wakeAt(atMs), remoteWrite: () => { waiters.poke(); taskWatch.poke() } })
  // A commit that may make work claimable may also move a task a wait is for (claims move none).
  const commit = createCommit(driver, () => { waiters.poke(); taskWatch.poke() })
  // The MCP tools call the API through the router (bound below), exactly as a client over HTTP would.
  const mcp = createMcpEndpoint({ clock, log, apiToken: config.token, toolsets: config.mcpToolsets, callRoute: (r) => router.call(r) })
  const scheduler = createScheduler({ driver, clock, log })
  driver.watchSchedules((name) => void scheduler.changed(name))
  const metrics = createInstruments()
  const app: App = { driver, clock, config, log, commit, waiters, taskWatch, mcp, scheduler, metrics, lifecycle: { isStopping: false } }
  const router = createRouter(routesFor(config), app)
  // The console's pages (/ui) are not API routes: they have their own router, sessions and CSRF checks. Loaded
  // on the first /ui request, so a server nobody browses (and every CLI run) does not pay for its modules.
  let ui: Promise<{ handle(request: Request, req: ServerContext['req']): Promise<Response> }> | undefined
  const adapter = createServerAdapter<ServerContext>(async (request, ctx) => {
    if (!isConsolePath(ctx.req.url ?? '/')) return router.handle(request, ctx)
    ui ??= import('./ui/console.ts').then((m) => m.createConsole(app))
    return (await ui).handle(request, ctx.req)
  })

  // Background writes skip their turn while storage is busy.
  const sweep = () => driver.tryWrite((c) => c.sweepAnswers(clock.now()))?.catch((err) => log.error('idempotency sweep failed', err))
  const sweepTimer = setInterval(sweep, IDEMPOTENCY_SWEEP_MS).unref()
  const reaper = createReaper({ driver, clock, log, onReaped: (reaped) => { observeReaped({ metrics, clock }, reaped); waiters.poke(); taskWatch.poke() } })
  if (options.autoReap !== false) reaper.start()
  void scheduler.start()

  return {
    app,
    /** A node:http request listener. */
    handler: adapter,
    sweepIdempotency: sweep,
    reaper,
    scheduler,
    /** Stops timers and answers every waiting claim 204; the caller closes the server and the driver. */
    close(): void {
      app.lifecycle.isStopping = true
      clearInterval(sweepTimer)
      reaper.stop()
      scheduler.stop()
      waiters.close()
      taskWatch.close()
      void mcp.close()
    },
  }
}
