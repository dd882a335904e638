// Schedules as a resource: put (create or replace), read, list by prefix, delete (README: Schedules).
import { del, get, put, type Input, type Route } from '../route.ts'
import { queryLimit } from '../validate.ts'
import { noContent, rawJson, type Reply } from '../reply.ts'
import { keyCursorOf, pageJson, parseKeyCursor } from '../pagination.ts'
import { scheduleJson } from '../schedule-json.ts'
import { parseScheduleBody } from '../schedule-body.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import type { App } from '../../app.ts'

const MAX_NAME_BYTES = 512
/**
 * The schedule name of the path: 1..512 UTF-8 bytes. ("state" is taken by GET /schedules/state, so the
 * router answers 405 to PUT or DELETE of a schedule of that name.)
 */
export function scheduleName(input: Input): string {
  const { name } = input.params
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw validationError([{ path: 'name', message: `longer than ${MAX_NAME_BYTES} bytes` }])
  return name
}

/** After a change commits, this node's timer takes it up (other nodes hear of it from the driver). */
export async function andReschedule(app: App, name: string | null, reply: Promise<Reply>): Promise<Reply> {
  const answered = await reply
  void app.scheduler.changed(name)
  return answered
}

export const scheduleRoutes: Route[] = [
  get('/schedules', async (input, app) => {
    const limit = queryLimit(input.query, 100)
    const after = parseKeyCursor(input.query.cursor)
    const rows = await app.driver.reads.schedules(input.query.prefix ?? '', after, limit)
    const nowMs = app.clock.now()
    return rawJson(200, pageJson(rows, limit, (r) => scheduleJson(r, nowMs), (r) => keyCursorOf(r.name)))
  }),

  put('/schedules/:name', async (input, app) => {
    const name = scheduleName(input)
    const { spec, paused } = await parseScheduleBody(app, input.body)
    const nowMs = app.clock.now()
    return andReschedule(app, name, app.commit(input, (c) => c.putSchedule(name, spec, paused, nowMs),
      ({ row, created }) => rawJson(created ? 201 : 200, scheduleJson(row, nowMs))))
  }),

  get('/schedules/:name', async (input, app) => {
    const row = await app.driver.reads.schedule(scheduleName(input))
    if (row === undefined) throw new AppError('not_found', 404, 'Schedule not found')
    return rawJson(200, scheduleJson(row, app.clock.now()))
  }),

  del('/schedules/:name', (input, app) => {
    const name = scheduleName(input)
    return andReschedule(app, name, app.commit(input, (c) => c.deleteSchedule(name), noContent))
  }),
]
