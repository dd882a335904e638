import * as v from 'valibot'
import { get, post, withAccess, type Input, type Route } from '../route.ts'
import { body, Int, Name, NonNegInt, queryLimit } from '../validate.ts'
import { json, rawJson } from '../reply.ts'
import { runDetailJson } from '../render.ts'
import { pageJson, parseIdCursor } from '../pagination.ts'
import { ndjsonReply, wantsNdjson } from '../ndjson.ts'
import { leaseRequest, requireApiOrLease } from '../lease-auth.ts'
import { AppError } from '../../domain/errors.ts'
import { SYSTEM_EVENT_KINDS } from '../../domain/status.ts'
import type { App } from '../../app.ts'
import type { EventRow } from '../../store/types.ts'
import { observeRunEnd } from '../../metrics/runs.ts'

const AppendEvent = v.object({ kind: v.pipe(v.string(), v.minLength(1), v.maxLength(128)), data: v.optional(v.unknown()) })
const Transition = v.object({
  trigger: Name,
  instructions: v.nullish(v.string()),
  usage: v.optional(v.unknown()),
  expected_stage: v.nullish(Name),
  expected_task_version: v.nullish(Int),
})
const Fail = v.object({ error: v.string(), usage: v.optional(v.unknown()), retry_delay_ms: v.nullish(NonNegInt) })

const MISSING = 'Missing Authorization header'
const RELEASED = 'No active lease for this run'

/** The lease a run route's bearer token proves (checked, live, inside the change), and its request. */
const leaseOf = <T>(input: Input, app: App, parse: () => T) => leaseRequest(input, app, input.params.id, MISSING, RELEASED, parse)

function eventJson(e: EventRow): string {
  return `{"id":${e.id},"run_id":${JSON.stringify(e.run_id)},"ts_ms":${e.ts_ms},"kind":${JSON.stringify(e.kind)},"data":${e.data_json}}`
}

export const runRoutes: Route[] = [
  withAccess(get('/runs/:id', async (input, app) => {
    await requireApiOrLease(input, app, input.params.id)
    const run = await app.driver.reads.run(input.params.id)
    if (run === undefined) throw new AppError('not_found', 404, 'Run not found')
    return rawJson(200, runDetailJson(run, await app.driver.reads.spanCountOfRun(run.id)))
  }), 'api_or_lease'),

  withAccess(get('/runs/:id/events', async (input, app) => {
    await requireApiOrLease(input, app, input.params.id)
    if (await app.driver.reads.run(input.params.id) === undefined) throw new AppError('not_found', 404, 'Run not found')
    const after = parseIdCursor(input.query.cursor) ?? 0
    if (wantsNdjson(input.headers)) {
      const read = (cursor: number | null, limit: number) => app.driver.reads.events(input.params.id, cursor ?? 0, limit)
      return ndjsonReply({ read, cursorOf: (e) => e.id, lineOf: eventJson }, after, app)
    }
    const limit = queryLimit(input.query, 100)
    const rows = await app.driver.reads.events(input.params.id, after, limit)
    return rawJson(200, pageJson(rows, limit, eventJson, (e) => String(e.id)))
  }), 'api_or_lease'),

  withAccess(post('/runs/:id/events', async (input, app) => {
    const { lease, req } = await leaseOf(input, app, () => {
      const req = body(AppendEvent, input.body)
      if (SYSTEM_EVENT_KINDS.has(req.kind)) throw new AppError('reserved_event_kind', 400, `Event kind ${req.kind} is written only by Docket`)
      return req
    })
    return app.commit(input, (c) => c.appendEvent(lease, req.kind, req.data, app.clock.now()), (id) => json(201, { id }))
  }), 'lease'),

  withAccess(post('/runs/:id/transition', async (input, app) => {
    const { lease, req } = await leaseOf(input, app, () => body(Transition, input.body))
    return app.commit(input, (c) => c.transition(lease, {
      trigger: req.trigger,
      instructions: req.instructions ?? null,
      usage: req.usage,
      expectedStage: req.expected_stage ?? null,
      expectedTaskVersion: req.expected_task_version ?? null,
    }, app.clock.now()), (result) => {
      observeRunEnd(app, input.params.id, 'completed')
      return json(200, result)
    })
  }), 'lease'),

  withAccess(post('/runs/:id/fail', async (input, app) => {
    const { lease, req } = await leaseOf(input, app, () => body(Fail, input.body))
    return app.commit(input, (c) => c.fail(lease, req.error, req.usage, app.clock.now(), req.retry_delay_ms ?? null), (deadLettered) => {
      observeRunEnd(app, input.params.id, 'failed')
      if (deadLettered) app.metrics.deadLetters.inc()
      return json(200, { status: 'failed' })
    })
  }), 'lease'),
]
