import { get, withAccess, type Route } from '../route.ts'
import { json } from '../reply.ts'
import { AppError } from '../../domain/errors.ts'
import { authMode } from '../../domain/auth.ts'
import { MAX_LEASE_TTL_MS, MAX_WAIT_MS, MIN_LEASE_TTL_MS } from './leases.ts'

// /ready is for load balancers and orchestrators (Kubernetes' readinessProbe): it asks the database, where
// /health (the liveness probe) stays cheap. /info says what this server is and accepts.
export const probeRoutes: Route[] = [
  withAccess(get('/ready', async (_input, app) => {
    if (app.lifecycle.isStopping) throw new AppError('not_ready', 503, 'shutting down')
    // The database's own words stay in the log: a public route must not show users, hosts or database names.
    const readiness = await app.driver.reads.readiness().catch((err: Error) => {
      app.log.error('readiness check failed', err)
      return { ready: false as const, reason: 'the database does not answer' }
    })
    if (!readiness.ready) throw new AppError('not_ready', 503, readiness.reason)
    return json(200, { status: 'ready' })
  }), 'public'),

  get('/info', (_input, app) => json(200, {
    version: app.config.version,
    driver: app.driver.kind,
    auth: authMode(app.config.token, app.config.mtls),
    durability: app.config.durability,
    metrics_public: app.config.metricsPublic,
    limits: {
      max_body_bytes: app.config.maxBodyBytes,
      min_lease_ttl_ms: MIN_LEASE_TTL_MS,
      max_lease_ttl_ms: MAX_LEASE_TTL_MS,
      max_claim_wait_ms: MAX_WAIT_MS,
    },
  })),
]
