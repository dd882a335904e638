// The rest of a task's life: edit, delete, wait for its outcome, move it out of a human gate, its events.
import * as v from 'valibot'
import { del, get, patch, post, type Route } from '../route.ts'
import { body, Int, Name, NonNegInt, queryInt, queryLimit, RetryPolicy, Title } from '../validate.ts'
import { noContent, rawJson } from '../reply.ts'
import { pageJson, parseIdCursor } from '../pagination.ts'
import { taskJson } from '../render.ts'
import { requireTask } from '../lookups.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import type { TaskEventRow } from '../../store/types.ts'

const TaskPatch = v.object({
  title: v.optional(Title),
  description: v.optional(v.string()),
  priority: v.optional(Int),
  metadata: v.optional(v.unknown()),
  metadata_merge: v.optional(v.unknown()),
  retry_policy: v.optional(v.nullable(RetryPolicy)),
  not_before_ms: v.optional(v.nullable(NonNegInt)),
  assigned_agent_id: v.optional(v.nullable(Name)),
  expected_task_version: v.nullish(Int),
})

const Signal = v.object({
  trigger: Name,
  data: v.optional(v.unknown()),
  expected_stage: v.nullish(Name),
})

const MAX_WAIT_MS = 60_000

function taskEventJson(e: TaskEventRow): string {
  return `{"id":${e.id},"task_id":${JSON.stringify(e.task_id)},"ts_ms":${e.ts_ms},"kind":${JSON.stringify(e.kind)},"data":${e.data_json}}`
}

function parsePatch(raw: Buffer | null) {
  const p = body(TaskPatch, raw)
  if (p.metadata !== undefined && p.metadata_merge !== undefined) {
    throw validationError([{ path: 'metadata_merge', message: 'send metadata or metadata_merge, not both' }])
  }
  const { expected_task_version: _, ...fields } = p
  if (Object.keys(fields).length === 0) throw validationError([{ path: '', message: 'nothing to change' }])
  return p
}

function queryFlag(query: Record<string, string>, name: string): boolean {
  const text = query[name]
  if (text === undefined || text === 'false') return false
  if (text === 'true') return true
  throw validationError([{ path: `query.${name}`, message: 'must be true or false' }])
}

export const lifecycleRoutes: Route[] = [
  patch('/tasks/:id', (input, app) => {
    const p = parsePatch(input.body)
    return app.commit(input, (c) => c.editTask(input.params.id, p, app.clock.now()), (task) => rawJson(200, taskJson(task)))
  }),

  del('/tasks/:id', (input, app) => {
    const force = queryFlag(input.query, 'force')
    return app.commit(input, (c) => c.deleteTask(input.params.id, force, app.clock.now()), noContent)
  }),

  post('/tasks/:id/signal', (input, app) => {
    const s = body(Signal, input.body)
    const req = { trigger: s.trigger, data: s.data ?? null, expectedStage: s.expected_stage ?? null }
    return app.commit(input, (c) => c.signalTask(input.params.id, req, app.clock.now()), (r) =>
      rawJson(200, `{"previous_stage":${JSON.stringify(r.previous_stage)},"new_stage":${JSON.stringify(r.new_stage)},` +
        `"trigger":${JSON.stringify(r.trigger)},"task":${taskJson(r.task)}}`))
  }),

  get('/tasks/:id/events', async (input, app) => {
    const task = await requireTask(app, input.params.id)
    const limit = queryLimit(input.query, 100)
    const rows = await app.driver.reads.taskEvents(task.id, parseIdCursor(input.query.cursor) ?? 0, limit)
    return rawJson(200, pageJson(rows, limit, taskEventJson, (e) => String(e.id)))
  }),

  // 200 as soon as the task is done (terminal stage, the given stage, dead-lettered or canceled); 202 with
  // the task as it is when the time runs out.
  get('/tasks/:id/wait', async (input, app) => {
    const waitMs = queryInt(input.query, 'timeout_ms', 30_000, 0, MAX_WAIT_MS)
    const stage = input.query.stage ?? null
    const task = await requireTask(app, input.params.id)
    if (await app.taskWatch.isDone(task, stage)) return rawJson(200, taskJson(task))
    const outcome = await app.taskWatch.wait(task, stage, waitMs, input.signal)
    if (outcome.isGone) throw new AppError('not_found', 404, 'Task was deleted')
    if (outcome.isDone) return rawJson(200, taskJson(outcome.task))
    // Time ran out: the task as it is now (done in the meantime, it answers 200 after all).
    const now = await app.driver.reads.task(task.id)
    if (now === undefined) throw new AppError('not_found', 404, 'Task was deleted')
    return rawJson(await app.taskWatch.isDone(now, stage) ? 200 : 202, taskJson(now))
  }),
]

