// Dependencies and assignments: the edges between a task and other tasks or agents.
import * as v from 'valibot'
import { del, get, post, type Route } from '../route.ts'
import { body, Name } from '../validate.ts'
import { json, noContent, rawJson } from '../reply.ts'
import { assignmentJson } from '../render.ts'
import { requireTask } from '../lookups.ts'

const AddDependency = v.object({ depends_on_task_id: Name })
const Assign = v.object({ agent_id: Name, assigned_by: v.nullish(Name) })

export const linkRoutes: Route[] = [
  post('/tasks/:id/dependencies', (input, app) => {
    const { depends_on_task_id } = body(AddDependency, input.body)
    return app.commit(input, (c) => c.addDependency(input.params.id, depends_on_task_id, app.clock.now()),
      () => json(201, { status: 'created' }))
  }),

  get('/tasks/:id/dependencies', async (input, app) => {
    const task = await requireTask(app, input.params.id)
    return json(200, await app.driver.reads.dependencies(task.id))
  }),

  del('/tasks/:id/dependencies/:depends_on_task_id', (input, app) =>
    app.commit(input, (c) => c.removeDependency(input.params.id, input.params.depends_on_task_id), noContent)),

  post('/tasks/:id/assignments', (input, app) => {
    const req = body(Assign, input.body)
    return app.commit(input, (c) => c.assign(input.params.id, req.agent_id, req.assigned_by ?? null, app.clock.now()),
      () => json(201, { status: 'assigned' }))
  }),

  get('/tasks/:id/assignments', async (input, app) => {
    const task = await requireTask(app, input.params.id)
    return rawJson(200, `[${(await app.driver.reads.assignments(task.id)).map((a) => assignmentJson(a, true)).join(',')}]`)
  }),

  del('/tasks/:id/assignments/:agent_id', (input, app) =>
    app.commit(input, (c) => c.unassign(input.params.id, input.params.agent_id, app.clock.now()),
      () => json(200, { status: 'unassigned' }))),
]
