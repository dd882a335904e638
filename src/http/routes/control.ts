// Operator actions: cancel and requeue a task, pause and resume a pipeline (SPEC §6–7).
import * as v from 'valibot'
import { post, type Route } from '../route.ts'
import { Name, optionalBody } from '../validate.ts'
import { rawJson } from '../reply.ts'
import { pipelineJson, taskJson } from '../render.ts'

const Cancel = v.object({ reason: v.nullish(v.string()) })
const Requeue = v.object({ stage: v.nullish(Name) })
const NoFields = v.object({})

export const controlRoutes: Route[] = [
  post('/tasks/:id/cancel', (input, app) => {
    const req = optionalBody(Cancel, input.body)
    return app.commit(input, (c) => c.cancelTask(input.params.id, req.reason ?? null, app.clock.now()), (task) => rawJson(200, taskJson(task)))
  }),

  post('/tasks/:id/requeue', (input, app) => {
    const req = optionalBody(Requeue, input.body)
    return app.commit(input, (c) => c.requeueTask(input.params.id, req.stage ?? null, app.clock.now()), (task) => {
      app.metrics.requeues.inc()
      return rawJson(200, taskJson(task))
    })
  }),

  post('/pipelines/:id/pause', (input, app) => {
    optionalBody(NoFields, input.body)
    return app.commit(input, (c) => c.setPaused(input.params.id, true), (p) => rawJson(200, pipelineJson(p)))
  }),

  post('/pipelines/:id/resume', (input, app) => {
    optionalBody(NoFields, input.body)
    return app.commit(input, (c) => c.setPaused(input.params.id, false), (p) => rawJson(200, pipelineJson(p)))
  }),
]
