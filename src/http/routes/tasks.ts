import * as v from 'valibot'
import { get, post, type Route } from '../route.ts'
import { body, Int, Name, NonNegInt, queryLimit, Title } from '../validate.ts'
import { objectOf } from '../../domain/schema.ts'
import { json, rawJson } from '../reply.ts'
import { pageJson, parseIdCursor, parseTimeCursor, timeCursorOf } from '../pagination.ts'
import { runJson, taskJson, assignmentJson } from '../render.ts'
import { AppError } from '../../domain/errors.ts'
import type { App } from '../../app.ts'

const TaskCreate = v.object({
  pipeline_id: Name,
  title: Title,
  description: v.string(),
  priority: v.nullish(Int),
  metadata: v.optional(v.unknown()),
  retry_policy: v.nullish(objectOf({
    max_attempts: v.nullish(v.pipe(Int, v.minValue(1))),
    retry_delay_ms: v.nullish(NonNegInt),
    dead_letter_stage: v.nullish(Name),
  })),
  dependencies: v.nullish(v.array(Name)),
  assigned_agent_id: v.nullish(Name),
  assigned_by: v.nullish(Name),
  not_before_ms: v.nullish(NonNegInt),
})

const BulkCreate = v.object({ tasks: v.array(TaskCreate) })

type TaskInput = v.InferOutput<typeof TaskCreate>

function createTask(app: App, t: TaskInput, nowMs: number): string {
  const id = app.store.tasks.create(t, nowMs)
  app.store.dependencies.addAtCreate(id, t.dependencies ?? [], nowMs)
  if (t.assigned_agent_id != null) app.store.assignments.assign(id, t.assigned_agent_id, t.assigned_by ?? null, nowMs)
  return id
}

/** Bulk items fail with their index in the message and in every detail path. */
function atItem(err: unknown, index: number): unknown {
  if (!(err instanceof AppError)) return err
  const prefix = `tasks[${index}]`
  const details = (err.details ?? [{ path: '', message: err.message }])
    .map((d) => ({ path: d.path ? `${prefix}.${d.path}` : prefix, message: d.message }))
  return new AppError(err.code, err.status, `${prefix}: ${err.message}`, details)
}

export const taskRoutes: Route[] = [
  post('/tasks', (input, app) => {
    const t = body(TaskCreate, input.body)
    return app.commit(input, () => json(201, { id: createTask(app, t, app.clock.now()) }))
  }),

  post('/tasks/bulk', (input, app) => {
    const { tasks } = body(BulkCreate, input.body)
    if (tasks.length === 0) throw new AppError('invalid_request', 400, 'tasks list must not be empty')
    return app.commit(input, () => {
      const now = app.clock.now()
      const ids = tasks.map((t, i) => {
        try {
          return createTask(app, t, now)
        } catch (err) {
          throw atItem(err, i)
        }
      })
      return json(201, { ids })
    })
  }),

  get('/tasks', (input, app) => {
    const limit = queryLimit(input.query, 50)
    const rows = app.store.tasks.list({
      stage: input.query.stage,
      pipelineId: input.query.pipeline_id,
      after: parseTimeCursor(input.query.cursor),
      limit,
    })
    return rawJson(200, pageJson(rows, limit, taskJson, timeCursorOf))
  }),

  get('/tasks/:id', (input, app) => {
    const { tasks, runs, dependencies, assignments } = app.store
    const task = tasks.require(input.params.id)
    const latest = runs.latestOf(task.id)
    const transitions = tasks.pipelineOf(task).transitions
      .filter((t) => t.from === task.stage)
      .map((t) => ({ trigger: t.trigger, to: t.to, required_gates: t.requiredGates }))
    const text = taskJson(task).slice(0, -1) +
      (latest ? `,"latest_run":${runJson(latest)}` : '') +
      `,"dependencies":${JSON.stringify(dependencies.list(task.id))}` +
      `,"assignments":[${assignments.list(task.id).map((a) => assignmentJson(a, false)).join(',')}]` +
      `,"available_transitions":${JSON.stringify(transitions)}}`
    return rawJson(200, text)
  }),

  get('/tasks/:id/run-state', (input, app) => {
    const run = app.store.runs.latestOf(input.params.id)
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

  get('/tasks/:id/runs', (input, app) => {
    const task = app.store.tasks.require(input.params.id)
    const limit = queryLimit(input.query, 100)
    const rows = app.store.runs.listOf(task.id, parseIdCursor(input.query.cursor) ?? 0, limit)
    return rawJson(200, pageJson(rows, limit, runJson, (r) => String(r.attempt)))
  }),
]
