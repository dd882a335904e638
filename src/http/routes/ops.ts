import { get, type Route } from '../route.ts'
import { json } from '../reply.ts'
import { queryInt } from '../validate.ts'
import { gateQueues } from '../gates.ts'

const DAY_MS = 86_400_000

export const opsRoutes: Route[] = [
  get('/ops/queue', async (input, app) => {
    const nearExpiryMs = queryInt(input.query, 'near_expiry_ms', 60_000, 0, 365 * DAY_MS)
    const stuckMs = queryInt(input.query, 'stuck_ms', 300_000, 0, 365 * DAY_MS)
    const roles = await app.driver.reads.queue(app.clock.now(), nearExpiryMs, stuckMs)
    return json(200, { roles, gates: await gateQueues(app), generated_at_ms: app.clock.now() })
  }),
]
