// Dependencies and assignments: the edges between a task and other tasks or agents.
import * as v from 'valibot'
import { del, get, post, type Route } from '../route.ts'
import { body, Name } from '../validate.ts'
import { json, noContent, rawJson } from '../reply.ts'
import { assignmentJson } from '../render.ts'

const AddDependency = v.object({ depends_on_task_id: Name })
const Assign = v.object({ agent_id: Name, assigned_by: v.nullish(Name) })

export const linkRoutes: Route[] = [
  post('/tasks/:id/dependencies', (input, app) => {
    const { depends_on_task_id } = body(AddDependency, input.body)
    return app.commit(input, () => {
      app.store.dependencies.add(input.params.id, depends_on_task_id, app.clock.now())
      return json(201, { status: 'created' })
    })
  }),

  get('/tasks/:id/dependencies', (input, app) => {
    const task = app.store.tasks.require(input.params.id)
    return json(200, app.store.dependencies.list(task.id))
  }),

  del('/tasks/:id/dependencies/:depends_on_task_id', (input, app) =>
    app.commit(input, () => {
      app.store.dependencies.remove(input.params.id, input.params.depends_on_task_id)
      return noContent()
    })),

  post('/tasks/:id/assignments', (input, app) => {
    const req = body(Assign, input.body)
    return app.commit(input, () => {
      app.store.assignments.assign(input.params.id, req.agent_id, req.assigned_by ?? null, app.clock.now())
      return json(201, { status: 'assigned' })
    })
  }),

  get('/tasks/:id/assignments', (input, app) => {
    const task = app.store.tasks.require(input.params.id)
    return rawJson(200, `[${app.store.assignments.list(task.id).map((a) => assignmentJson(a, true)).join(',')}]`)
  }),

  del('/tasks/:id/assignments/:agent_id', (input, app) =>
    app.commit(input, () => {
      app.store.assignments.unassign(input.params.id, input.params.agent_id, app.clock.now())
      return json(200, { status: 'unassigned' })
    })),
]
