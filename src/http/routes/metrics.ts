import { get, type Route } from '../route.ts'
import { collectTaskGauges } from '../../metrics/tasks.ts'

/** GET /metrics: the Prometheus text format. The API token guards it unless --metrics-public (app.ts). */
export const metricsRoute: Route = get('/metrics', async (_input, app) => {
  const { registry } = app.metrics
  await collectTaskGauges(app.driver.reads, app.metrics, app.clock.now())
  return { status: 200, body: await registry.metrics(), headers: { 'content-type': registry.contentType } }
})

export const metricsRoutes: Route[] = [metricsRoute]
