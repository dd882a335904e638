import * as v from 'valibot'
import { get, post, type Route } from '../route.ts'
import { body, Int, Name, NonNegInt, queryLimit, RetryPolicy, Title } from '../validate.ts'
import { json, rawJson } from '../reply.ts'
import { pageJson, parseIdCursor, parseTimeCursor, timeCursorOf, timeCursorOfRow } from '../pagination.ts'
import { ndjsonReply, wantsNdjson } from '../ndjson.ts'
import { taskFilterOf } from '../task-query.ts'
import { runJson, taskJson, assignmentJson } from '../render.ts'
import { AppError, TaskItemError } from '../../domain/errors.ts'
import { requireTask } from '../lookups.ts'

const TaskCreate = v.object({
  pipeline_id: Name,
  title: Title,
  description: v.string(),
  priority: v.nullish(Int),
  metadata: v.optional(v.unknown()),
  retry_policy: v.nullish(RetryPolicy),
  dependencies: v.nullish(v.array(Name)),
  assigned_agent_id: v.nullish(Name),
  assigned_by: v.nullish(Name),
  not_before_ms: v.nullish(NonNegInt),
})

const BulkCreate = v.object({ tasks: v.array(TaskCreate) })

/** Bulk items fail with their index in the message and in every detail path. */
function atItem(err: unknown): never {
  if (!(err instanceof TaskItemError)) throw err
  const { cause, index } = err
  const prefix = `tasks[${index}]`
  const details = (cause.details ?? [{ path: '', message: cause.message }])
    .map((d) => ({ path: d.path ? `${prefix}.${d.path}` : prefix, message: d.message }))
  throw new AppError(cause.code, cause.status, `${prefix}: ${cause.message}`, details)
}

export const taskRoutes: Route[] = [
  post('/tasks', (input, app) => {
    const t = body(TaskCreate, input.body)
    return app.commit(input, (c) => c.createTasks([t], app.clock.now()), ([id]) => json(201, { id }))
  }),

  post('/tasks/bulk', (input, app) => {
    const { tasks } = body(BulkCreate, input.body)
    if (tasks.length === 0) throw new AppError('invalid_request', 400, 'tasks list must not be empty')
    return app.commit(input, (c) => c.createTasks(tasks, app.clock.now()), (ids) => json(201, { ids })).catch(atItem)
  }),

  get('/tasks', async (input, app) => {
    const filter = taskFilterOf(input.query, app.clock.now())
    const after = parseTimeCursor(input.query.cursor)
    const { reads } = app.driver
    if (wantsNdjson(input.headers)) {
      return ndjsonReply({ read: (cursor, limit) => reads.tasks({ ...filter, after: cursor, limit }), cursorOf: timeCursorOfRow, lineOf: taskJson }, after, app)
    }
    const limit = queryLimit(input.query, 50)
    const [rows, total] = await Promise.all([
      reads.tasks({ ...filter, after, limit }),
      input.query.include_total === 'true' ? reads.countTasks({ ...filter, after: null, limit }) : null,
    ])
    const page = pageJson(rows, limit, taskJson, timeCursorOf)
    return rawJson(200, total === null ? page : `${page.slice(0, -1)},"total":${total}}`)
  }),

  get('/tasks/:id', async (input, app) => {
    const { reads } = app.driver
    const task = await requireTask(app, input.params.id)
    const [latest, dependencies, assignments, pipeline] = await Promise.all([
      reads.latestRun(task.id), reads.dependencies(task.id), reads.assignments(task.id), reads.compiledPipeline(task.pipeline_id),
    ])
    const transitions = pipeline!.transitions
      .filter((t) => t.from === task.stage)
      .map((t) => ({ trigger: t.trigger, to: t.to, required_gates: t.requiredGates }))
    const text = taskJson(task).slice(0, -1) +
      (latest ? `,"latest_run":${runJson(latest)}` : '') +
      `,"dependencies":${JSON.stringify(dependencies)}` +
      `,"assignments":[${assignments.map((a) => assignmentJson(a, false)).join(',')}]` +
      `,"available_transitions":${JSON.stringify(transitions)}}`
    return rawJson(200, text)
  }),

  get('/tasks/:id/run-state', async (input, app) => {
    const run = await app.driver.reads.latestRun(input.params.id)
    if (run === undefined) throw new AppError('not_found', 404, 'Task not found or has no run')
    const isLive = run.lease_expires_at_ms !== null
    return json(200, {
      task_id: run.task_id,
      run_id: run.id,
      attempt: run.attempt,
      status: run.status,
      lease_id: isLive ? run.id : null,
      lease_expires_at_ms: run.lease_expires_at_ms,
    })
  }),

  get('/tasks/:id/runs', async (input, app) => {
    const task = await requireTask(app, input.params.id)
    const limit = queryLimit(input.query, 100)
    const rows = await app.driver.reads.runs(task.id, parseIdCursor(input.query.cursor) ?? 0, limit)
    return rawJson(200, pageJson(rows, limit, runJson, (r) => String(r.attempt)))
  }),
]
