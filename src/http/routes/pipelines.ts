import * as v from 'valibot'
import { get, post, type Route } from '../route.ts'
import { body, check, Name } from '../validate.ts'
import { json, rawJson } from '../reply.ts'
import { pipelineJson } from '../render.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import { compilePipeline, definitionIssues, DefinitionSchema } from '../../domain/pipeline.ts'

const CreatePipeline = v.object({ name: Name, definition: v.unknown() })

export const pipelineRoutes: Route[] = [
  post('/pipelines', (input, app) => {
    const req = body(CreatePipeline, input.body)
    const definition = check(DefinitionSchema, req.definition, 'definition')
    const issues = definitionIssues(definition)
    if (issues.length > 0) throw validationError(issues, 'Pipeline definition validation failed')
    const compiled = compilePipeline(definition)
    return app.commit(input, (c) => c.createPipeline(req.name, req.definition, compiled, app.clock.now()), (id) => json(201, { id }))
  }),

  get('/pipelines', async (_input, app) => rawJson(200, `[${(await app.driver.reads.pipelines()).map(pipelineJson).join(',')}]`)),

  get('/pipelines/:id', async (input, app) => {
    const pipeline = await app.driver.reads.pipeline(input.params.id)
    if (pipeline === undefined) throw new AppError('not_found', 404, 'Pipeline not found')
    return rawJson(200, pipelineJson(pipeline))
  }),
]
