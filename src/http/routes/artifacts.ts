import * as v from 'valibot'
import { get, post, type Route } from '../route.ts'
import { body, Name, NonNegInt, queryLimit } from '../validate.ts'
import { json, rawJson } from '../reply.ts'
import { pageJson, parseTimeCursor, timeCursorOf, timeCursorOfRow } from '../pagination.ts'
import { ndjsonReply, wantsNdjson } from '../ndjson.ts'
import type { ArtifactRow, TimeCursor } from '../../store/types.ts'

const CreateArtifact = v.object({
  task_id: v.nullish(Name),
  run_id: v.nullish(Name),
  kind: Name,
  uri: v.string(),
  sha256: v.nullish(Name),
  size_bytes: v.nullish(NonNegInt),
  meta: v.optional(v.unknown()),
})

const s = JSON.stringify

function artifactJson(a: ArtifactRow): string {
  return `{"id":${s(a.id)},"task_id":${s(a.task_id)},"run_id":${s(a.run_id)},"created_at_ms":${a.created_at_ms},` +
    `"kind":${s(a.kind)},"uri":${s(a.uri)},"sha256":${s(a.sha256)},"size_bytes":${a.size_bytes},"meta":${a.meta_json}}`
}

export const artifactRoutes: Route[] = [
  post('/artifacts', (input, app) => {
    const req = body(CreateArtifact, input.body)
    return app.commit(input, (c) => c.createArtifact(req, app.clock.now()), (id) => json(201, { id }))
  }),

  get('/artifacts', async (input, app) => {
    const filter = { taskId: input.query.task_id, runId: input.query.run_id }
    const after = parseTimeCursor(input.query.cursor)
    if (wantsNdjson(input.headers)) {
      const read = (cursor: TimeCursor | null, limit: number) => app.driver.reads.artifacts({ ...filter, after: cursor, limit })
      return ndjsonReply({ read, cursorOf: timeCursorOfRow, lineOf: artifactJson }, after, app)
    }
    const limit = queryLimit(input.query, 100)
    const rows = await app.driver.reads.artifacts({ ...filter, after, limit })
    return rawJson(200, pageJson(rows, limit, artifactJson, timeCursorOf))
  }),
]
