// Bulk requeue and cancel, by ids or by a filter. A filter is worked through in batches, each its own short
// transaction, with a turn of the event loop between them: a requeue of 100,000 dead letters never holds
// the writer for long, and other requests are served meanwhile (bench/workloads/bulk.ts measures it).
import * as v from 'valibot'
import { post, type Input, type Route } from '../route.ts'
import { body, Name, NonNegInt } from '../validate.ts'
import { objectOf } from '../../domain/schema.ts'
import { json, rawJson } from '../reply.ts'
import { validationError } from '../../domain/errors.ts'
import { DEAD_LETTER_REASON } from '../../domain/status.ts'
import { BULK_STATUS, type BulkFilter, type BulkItem, type TimeCursor } from '../../store/types.ts'
import type { Awaitable, Changes } from '../../store/driver.ts'
import type { App } from '../../app.ts'

/** Items per transaction: a few milliseconds of writing on either driver. */
export const BULK_BATCH = 200
const MAX_IDS = 1000

const Ids = v.pipe(v.array(Name), v.maxLength(MAX_IDS))
const Filter = objectOf({
  pipeline_id: v.optional(Name),
  stage: v.optional(Name),
  status: v.optional(v.picklist(BULK_STATUS)),
  dead_letter_reason: v.optional(v.picklist(DEAD_LETTER_REASON)),
  created_before_ms: v.optional(NonNegInt),
})
const Requeue = v.object({ ids: v.optional(Ids), filter: v.optional(Filter), stage: v.nullish(Name) })
const Cancel = v.object({ ids: v.optional(Ids), filter: v.optional(Filter), reason: v.nullish(v.string()) })

export type Batch = (c: Changes, ids: readonly string[], nowMs: number) => Awaitable<BulkItem[]>

/** Exactly one of ids (not empty) or a filter (with at least one field). */
function targetOf(req: { ids?: string[]; filter?: BulkFilter }): { ids: string[] } | { filter: BulkFilter } {
  if ((req.ids === undefined) === (req.filter === undefined)) throw validationError([{ path: '', message: 'send ids or filter, exactly one' }])
  if (req.ids !== undefined) {
    if (req.ids.length === 0) throw validationError([{ path: 'ids', message: 'must not be empty' }])
    return { ids: [...new Set(req.ids)] }
  }
  if (Object.keys(req.filter!).length === 0) throw validationError([{ path: 'filter', message: 'must name at least one field' }])
  return { filter: req.filter! }
}

/** One batch in one transaction. Not recorded under an Idempotency-Key: each item is safe to repeat. */
export async function runBatch(input: Input, app: App, batch: Batch, ids: readonly string[]): Promise<BulkItem[]> {
  let items: BulkItem[] = []
  await app.commit({ ...input, idempotencyKey: null }, (c) => batch(c, ids, app.clock.now()), (result) => {
    items = result
    return json(200, null)
  })
  return items
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

async function runBulk(input: Input, app: App, target: { ids: string[] } | { filter: BulkFilter }, batch: Batch, onChanged: (n: number) => void = () => {}) {
  // Each batch's results are rendered as it ends: a whole answer of 100,000 items rendered at once would
  // hold the event loop for tens of milliseconds.
  const rendered: string[] = []
  let matched = 0
  let changed = 0
  const record = (items: BulkItem[]) => {
    const n = items.filter((i) => i.changed).length
    changed += n
    onChanged(n)
    if (items.length > 0) rendered.push(JSON.stringify(items.map(({ id, ok, error }) => (error === undefined ? { id, ok } : { id, ok, error }))).slice(1, -1))
  }
  if ('ids' in target) {
    matched = target.ids.length
    for (let i = 0; i < target.ids.length; i += BULK_BATCH) {
      if (i > 0) await nextTurn()
      record(await runBatch(input, app, batch, target.ids.slice(i, i + BULK_BATCH)))
    }
  } else {
    // The tasks that exist when the request arrives: with producers still creating, a cancel by filter would
    // otherwise chase them forever.
    const until = app.clock.now() + 1
    const filter = { ...target.filter, created_before_ms: Math.min(target.filter.created_before_ms ?? until, until) }
    let after: TimeCursor | null = null
    for (;;) {
      const rows = await app.driver.reads.matchTasks(filter, after, BULK_BATCH)
      if (rows.length === 0) break
      matched += rows.length
      record(await runBatch(input, app, batch, rows.map((r) => r.id)))
      const last = rows[rows.length - 1]
      after = { createdAtMs: last.created_at_ms, id: last.id }
      if (rows.length < BULK_BATCH || input.signal.aborted) break
      await nextTurn()
    }
  }
  return rawJson(200, `{"results":[${rendered.join(',')}],"matched":${matched},"changed":${changed}}`)
}

export const bulkRoutes: Route[] = [
  post('/tasks/requeue', (input, app) => {
    const req = body(Requeue, input.body)
    const stage = req.stage ?? null
    return runBulk(input, app, targetOf(req), (c, ids, nowMs) => c.requeueTasks(ids, stage, nowMs), (n) => app.metrics.requeues.inc(n))
  }),

  post('/tasks/cancel', (input, app) => {
    const req = body(Cancel, input.body)
    const reason = req.reason ?? null
    return runBulk(input, app, targetOf(req), (c, ids, nowMs) => c.cancelTasks(ids, reason, nowMs))
  }),
]
