// Operating schedules: a manual trigger, pause and resume of one or all, the global state, and the tasks a
// schedule made (README: Schedules). Literal paths come first: /schedules/state is not a schedule's name.
import * as v from 'valibot'
import { get, post, type Route } from '../route.ts'
import { optionalBody, queryLimit } from '../validate.ts'
import { json, rawJson } from '../reply.ts'
import { pageJson, parseIdCursor } from '../pagination.ts'
import { taskJson } from '../render.ts'
import { scheduleJson, scheduleStateJson } from '../schedule-json.ts'
import { andReschedule, scheduleName } from './schedules.ts'
import { renderTask } from '../../schedules/template.ts'
import { AppError } from '../../domain/errors.ts'

const NoFields = v.object({})

function notFound(): AppError {
  return new AppError('not_found', 404, 'Schedule not found')
}

export const scheduleControlRoutes: Route[] = [
  get('/schedules/state', async (_input, app) => rawJson(200, scheduleStateJson(await app.driver.reads.scheduleControl()))),

  post('/schedules/pause', (input, app) => {
    optionalBody(NoFields, input.body)
    return andReschedule(app, null, app.commit(input, (c) => c.pauseSchedules(true, app.clock.now()), (s) => rawJson(200, scheduleStateJson(s))))
  }),

  post('/schedules/resume', (input, app) => {
    optionalBody(NoFields, input.body)
    return andReschedule(app, null, app.commit(input, (c) => c.pauseSchedules(false, app.clock.now()), (s) => rawJson(200, scheduleStateJson(s))))
  }),

  // A task now, in a slot of its own (not a scheduled one: that still fires), whether paused or not.
  post('/schedules/:name/trigger', (input, app) => {
    const name = scheduleName(input)
    optionalBody(NoFields, input.body)
    const nowMs = app.clock.now()
    const render = (row: { name: string; spec_json: string }) => renderTask(row, nowMs)
    return app.commit(input, (c) => c.fireSlot({ name, slotMs: nowMs, manual: true, render }, nowMs), (fired) => {
      if (fired.outcome === 'gone') throw notFound()
      return json(201, { task_id: fired.task_id, scheduled_at_ms: nowMs })
    })
  }),

  post('/schedules/:name/pause', (input, app) => {
    const name = scheduleName(input)
    optionalBody(NoFields, input.body)
    const nowMs = app.clock.now()
    return andReschedule(app, name, app.commit(input, (c) => c.pauseSchedule(name, true, nowMs), (row) => rawJson(200, scheduleJson(row, nowMs))))
  }),

  post('/schedules/:name/resume', (input, app) => {
    const name = scheduleName(input)
    optionalBody(NoFields, input.body)
    const nowMs = app.clock.now()
    return andReschedule(app, name, app.commit(input, (c) => c.pauseSchedule(name, false, nowMs), (row) => rawJson(200, scheduleJson(row, nowMs))))
  }),

  get('/schedules/:name/tasks', async (input, app) => {
    const name = scheduleName(input)
    const limit = queryLimit(input.query, 50)
    const before = parseIdCursor(input.query.cursor)
    const [row, tasks] = await Promise.all([app.driver.reads.schedule(name), app.driver.reads.scheduleTasks(name, before, limit)])
    if (row === undefined) throw notFound()
    return rawJson(200, pageJson(tasks, limit, taskJson, (t) => String(t.slot_id)))
  }),
]
