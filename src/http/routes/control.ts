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
    return app.commit(input, () => {
      const task = app.store.tasks.require(input.params.id)
      return rawJson(200, taskJson(app.store.outcomes.cancel(task, req.reason ?? null, app.clock.now())))
    })
  }),

  post('/tasks/:id/requeue', (input, app) => {
    const req = optionalBody(Requeue, input.body)
    return app.commit(input, () => {
      const task = app.store.tasks.require(input.params.id)
      return rawJson(200, taskJson(app.store.outcomes.requeue(task, req.stage ?? null, app.clock.now())))
    })
  }),

  post('/pipelines/:id/pause', (input, app) => {
    optionalBody(NoFields, input.body)
    return app.commit(input, () => rawJson(200, pipelineJson(app.store.pipelines.setPaused(input.params.id, true))))
  }),

  post('/pipelines/:id/resume', (input, app) => {
    optionalBody(NoFields, input.body)
    return app.commit(input, () => rawJson(200, pipelineJson(app.store.pipelines.setPaused(input.params.id, false))))
  }),
]
