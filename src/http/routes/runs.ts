import * as v from 'valibot'
import { get, post, withAccess, type Route } from '../route.ts'
import { body, Int, Name, queryLimit } from '../validate.ts'
import { json, rawJson } from '../reply.ts'
import { runDetailJson } from '../render.ts'
import { pageJson, parseIdCursor } from '../pagination.ts'
import { currentRun, requireApiOrLease, runOfLeaseToken } from '../lease-auth.ts'
import { requireLiveLease } from '../../store/sqlite/leases.ts'
import { AppError } from '../../domain/errors.ts'
import { SYSTEM_EVENT_KINDS } from '../../domain/status.ts'
import type { Input } from '../route.ts'
import type { App } from '../../app.ts'
import type { EventRow, RunRow } from '../../store/types.ts'

const AppendEvent = v.object({ kind: v.pipe(v.string(), v.minLength(1), v.maxLength(128)), data: v.optional(v.unknown()) })
const Transition = v.object({
  trigger: Name,
  instructions: v.nullish(v.string()),
  usage: v.optional(v.unknown()),
  expected_stage: v.nullish(Name),
  expected_task_version: v.nullish(Int),
})
const Fail = v.object({ error: v.string(), usage: v.optional(v.unknown()) })

const MISSING = 'Missing Authorization header'
const RELEASED = 'No active lease for this run'

/** The lease-token-authenticated run of a lease route. */
const leaseRun = (input: Input, app: App) => runOfLeaseToken(input, app, input.params.id, MISSING, RELEASED)

/** Inside the change: the run as it is now, which must still hold a live lease. */
function liveRun(app: App, run: RunRow, nowMs: number): RunRow {
  const current = currentRun(app, run, RELEASED)
  requireLiveLease(current, nowMs)
  return current
}

function eventJson(e: EventRow): string {
  return `{"id":${e.id},"run_id":${JSON.stringify(e.run_id)},"ts_ms":${e.ts_ms},"kind":${JSON.stringify(e.kind)},"data":${e.data_json}}`
}

export const runRoutes: Route[] = [
  withAccess(get('/runs/:id', (input, app) => {
    requireApiOrLease(input, app, input.params.id)
    const run = app.store.runs.get(input.params.id)
    if (run === undefined) throw new AppError('not_found', 404, 'Run not found')
    return rawJson(200, runDetailJson(run, app.store.spans.spanCountOfRun(run.id)))
  }), 'api_or_lease'),

  withAccess(get('/runs/:id/events', (input, app) => {
    requireApiOrLease(input, app, input.params.id)
    if (app.store.runs.get(input.params.id) === undefined) throw new AppError('not_found', 404, 'Run not found')
    const limit = queryLimit(input.query, 100)
    const rows = app.store.events.listOf(input.params.id, parseIdCursor(input.query.cursor) ?? 0, limit)
    return rawJson(200, pageJson(rows, limit, eventJson, (e) => String(e.id)))
  }), 'api_or_lease'),

  withAccess(post('/runs/:id/events', (input, app) => {
    const run = leaseRun(input, app)
    const req = body(AppendEvent, input.body)
    if (SYSTEM_EVENT_KINDS.has(req.kind)) throw new AppError('reserved_event_kind', 400, `Event kind ${req.kind} is written only by Docket`)
    return app.commit(input, () => {
      const now = app.clock.now()
      liveRun(app, run, now)
      return json(201, { id: app.store.events.append(run.id, req.kind, req.data, now) })
    })
  }), 'lease'),

  withAccess(post('/runs/:id/transition', (input, app) => {
    const run = leaseRun(input, app)
    const req = body(Transition, input.body)
    return app.commit(input, () => {
      const now = app.clock.now()
      const result = app.store.outcomes.transition(liveRun(app, run, now), {
        trigger: req.trigger,
        instructions: req.instructions ?? null,
        usage: req.usage,
        expectedStage: req.expected_stage ?? null,
        expectedTaskVersion: req.expected_task_version ?? null,
      }, now)
      return json(200, result)
    })
  }), 'lease'),

  withAccess(post('/runs/:id/fail', (input, app) => {
    const run = leaseRun(input, app)
    const req = body(Fail, input.body)
    return app.commit(input, () => {
      const now = app.clock.now()
      app.store.outcomes.fail(liveRun(app, run, now), req.error, req.usage, now)
      return json(200, { status: 'failed' })
    })
  }), 'lease'),
]
