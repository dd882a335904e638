import { createServerAdapter } from '@whatwg-node/server'
import type { Db } from './store/sqlite/db.ts'
import type { Clock } from './clock.ts'
import type { Log } from './log.ts'
import { createStore, type Store } from './store/sqlite/index.ts'
import { createWriter, DEFAULT_LOCK_TIMEOUT_MS } from './store/sqlite/writer.ts'
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
import { VERSION } from './version.ts'

export type AppConfig = {
  token: string | null
  maxBodyBytes: number
  version: string
  /** How long a write waits for a lock another process holds before it answers 503 storage_busy. */
  lockTimeoutMs: number
  /** Every client presented a certificate the TLS layer checked (mTLS); only reported, the handshake enforces it. */
  mtls: boolean
}

export const DEFAULT_CONFIG: AppConfig = {
  token: null, maxBodyBytes: 1024 * 1024, version: VERSION, lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS, mtls: false,
}

/** What every handler gets: the stores, the clock, the configuration and the one way to commit a change. */
export type App = {
  store: Store
  clock: Clock
  config: AppConfig
  commit: Commit
  /** Resolves when no write is waiting for its commit (reads answer only with committed data). */
  settled(): Promise<void>
  waiters: Waiters
  log: Log
}

export const ROUTES: Route[] = [
  ...metaRoutes, ...pipelineRoutes, ...taskRoutes, ...linkRoutes, ...controlRoutes,
  ...leaseRoutes, ...runRoutes, ...artifactRoutes, ...opsRoutes, ...otlpRoutes, ...kvRoutes,
]

const IDEMPOTENCY_SWEEP_MS = 60 * 60 * 1000

export function createApp(options: { db: Db; clock: Clock; log: Log; config?: Partial<AppConfig>; autoReap?: boolean }) {
  const { db, log } = options
  const config = { ...DEFAULT_CONFIG, ...options.config }
  // The store tells the waiters when clock-bound work comes due; the waiters ask the store what is claimable.
  const store = createStore(db, (atMs) => waiters.wakeAt(atMs))
  const writer = createWriter(db, {
    clock: options.clock,
    lockTimeoutMs: config.lockTimeoutMs,
    onAbort: () => store.pipelines.forgetCompiled(),
  })
  // A change that waited for another process's lock runs as of its arrival (see Writer.lateChangeTime).
  const clock: Clock = { now: () => writer.lateChangeTime() ?? options.clock.now() }
  const waiters = createWaiters(clock, (role) => store.leases.claimableBy(role, clock.now()))
  const commit = createCommit(writer, store.idempotency, clock, waiters.poke)
  const app: App = { store, clock, config, log, commit, waiters, settled: writer.settled }
  const router = createRouter(ROUTES, app)
  const adapter = createServerAdapter<ServerContext>(router.handle)

  // Background writes skip their turn while another process holds the lock.
  const sweep = () => writer.tryRun(() => store.idempotency.sweepExpired(clock.now()))?.catch((err) => log.error('idempotency sweep failed', err))
  const sweepTimer = setInterval(sweep, IDEMPOTENCY_SWEEP_MS).unref()
  const reaper = createReaper({
    writer, store, clock, log,
    onReaped: () => waiters.poke(),
  })
  if (options.autoReap !== false) reaper.start()

  return {
    app,
    /** A node:http request listener. */
    handler: adapter,
    sweepIdempotency: sweep,
    reaper,
    /** Stops timers and answers every waiting claim 204; the caller closes the server and the database. */
    close(): void {
      clearInterval(sweepTimer)
      reaper.stop()
      waiters.close()
    },
  }
}
