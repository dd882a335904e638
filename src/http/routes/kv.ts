import * as v from 'valibot'
import { del, get, put, type Input, type Route } from '../route.ts'
import { body, queryLimit } from '../validate.ts'
import { noContent, rawJson } from '../reply.ts'
import { keyCursorOf, pageJson, parseKeyCursor } from '../pagination.ts'
import { AppError, validationError, type Detail } from '../../domain/errors.ts'
import { filterJson, isJsonPath, searchTerms } from '../../domain/search.ts'
import { tokensOf } from '../../domain/fts5-tokens.ts'
import type { EntryRow, HitRow } from '../../store/types.ts'

const MAX_NAME_BYTES = 512
/** GET /store/{ns} without limit or cursor keeps R's plain array, but never more than this. */
const PLAIN_LIST_CAP = 1000
const RESERVED_NAMESPACE = 'search'

// `value` must be present (valibot checks the key) and may be null. R§21.1 ignores other fields; here they
// are a 400 like on every route (nullTickets' clients send only `value`).
const PutBody = v.object({ value: v.unknown() })

const s = JSON.stringify

function entryJson(e: EntryRow): string {
  return `{"namespace":${s(e.namespace)},"key":${s(e.key)},"value":${e.value_json},` +
    `"created_at_ms":${e.created_at_ms},"updated_at_ms":${e.updated_at_ms}}`
}

function hitJson(h: HitRow): string {
  return `${entryJson(h).slice(0, -1)},"snippet":${s(h.snippet)},"rank":${h.rank}}`
}

/** Namespace and key are percent-decoded path segments of 1..512 UTF-8 bytes. */
function names(input: Input): { ns: string; key: string } {
  const { ns, key } = input.params
  const details: Detail[] = [['namespace', ns], ['key', key]]
    .filter(([, text]) => text !== undefined && Buffer.byteLength(text) > MAX_NAME_BYTES)
    .map(([field]) => ({ path: field, message: `longer than ${MAX_NAME_BYTES} bytes` }))
  if (details.length > 0) throw validationError(details)
  return { ns, key } // the router drops empty segments, so neither is ever empty
}

export const kvRoutes: Route[] = [
  // A literal path: the router never takes it for GET or DELETE /store/:ns of a namespace named "search".
  get('/store/search', async (input, app) => {
    const { q, namespace, filter_path: path, filter_value: value } = input.query
    if (q === undefined) throw new AppError('missing_param', 400, "Query parameter 'q' is required")
    const terms = searchTerms(q)
    if (terms === null) throw new AppError('invalid_query', 400, 'Search query must contain at least one non-whitespace term')
    const limit = queryLimit(input.query, 10)
    if (path !== undefined && !isJsonPath(path)) {
      throw validationError([{ path: 'query.filter_path', message: 'not a JSON path such as $.status, $.tags[0] or $."a key"' }])
    }
    const filter = path === undefined ? undefined : { path, text: value, json: value === undefined ? null : filterJson(value) }
    // A term without a word (`-`, `"`) is left out, as FTS5 leaves out an empty phrase; with none left, nothing matches.
    app.metrics.storeSearches.inc()
    if (!terms.some((t) => tokensOf(t).length > 0)) return rawJson(200, '[]')
    const hits = await app.driver.reads.search({ terms, namespace, filter, limit })
    return rawJson(200, `[${hits.map(hitJson).join(',')}]`)
  }),

  put('/store/:ns/:key', (input, app) => {
    const { ns, key } = names(input)
    if (ns === RESERVED_NAMESPACE) throw new AppError('reserved_namespace', 400, '"search" is a reserved namespace name')
    const { value } = body(PutBody, input.body)
    const valueJson = s(value)
    return app.commit(input, (c) => c.putEntry(ns, key, valueJson, app.clock.now()), () => {
      app.metrics.storePuts.inc()
      return noContent()
    })
  }),

  get('/store/:ns/:key', async (input, app) => {
    const { ns, key } = names(input)
    const entry = await app.driver.reads.entry(ns, key)
    if (entry === undefined) throw new AppError('not_found', 404, 'Key not found')
    return rawJson(200, entryJson(entry))
  }),

  get('/store/:ns', async (input, app) => {
    const { ns } = names(input)
    const { reads } = app.driver
    if (input.query.limit === undefined && input.query.cursor === undefined) {
      return rawJson(200, `[${(await reads.entries(ns, null, PLAIN_LIST_CAP)).map(entryJson).join(',')}]`)
    }
    const limit = queryLimit(input.query, 100)
    const after = parseKeyCursor(input.query.cursor)
    return rawJson(200, pageJson(await reads.entries(ns, after, limit + 1), limit, entryJson, (e) => keyCursorOf(e.key)))
  }),

  del('/store/:ns/:key', (input, app) => {
    const { ns, key } = names(input)
    return app.commit(input, (c) => c.deleteEntry(ns, key), noContent)
  }),

  del('/store/:ns', (input, app) => {
    const { ns } = names(input)
    return app.commit(input, (c) => c.deleteNamespace(ns), noContent)
  }),
]
