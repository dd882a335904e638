import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { startServer, type Res, type TestServer } from '../helpers/server.ts'
import { bearer, createPipeline, createTask, expectStatus, singleStage, unique, type Lease } from '../helpers/fixtures.ts'
import { resolveRef, schemaProblems } from '../helpers/schema.ts'
import { makeTrace, readableSpan } from '../helpers/otlp.ts'
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { ROUTES } from '../../src/app.ts'
import type { Access } from '../../src/http/route.ts'

const TEXT = readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8')
const doc = JSON.parse(TEXT)
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']

type Op = Record<string, any>
const operations = (): Array<{ method: string; path: string; op: Op }> =>
  Object.entries(doc.paths as Record<string, Record<string, Op>>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m] !== undefined).map((m) => ({ method: m.toUpperCase(), path, op: item[m] })))
const openapiPath = (routePath: string) => routePath.replace(/:(\w+)/g, '{$1}')
const deref = (node: Op) => (node.$ref === undefined ? node : resolveRef(doc, node.$ref))
const paramsOf = (path: string, op: Op) => [...(doc.paths[path].parameters ?? []), ...(op.parameters ?? [])].map(deref)

const test = suite<{ s: TestServer }>('openapi', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('the document is OpenAPI 3.1.0', () => {
  assert.is(doc.openapi, '3.1.0')
  assert.type(doc.info.title, 'string')
})

test('every route is documented with its method', () => {
  for (const r of ROUTES) {
    assert.ok(doc.paths[openapiPath(r.path)]?.[r.method.toLowerCase()], `${r.method} ${r.path} is not in openapi.json`)
  }
})

test('every documented operation is a route', () => {
  const routes = new Set(ROUTES.map((r) => `${r.method} ${openapiPath(r.path)}`))
  for (const { method, path } of operations()) assert.ok(routes.has(`${method} ${path}`), `${method} ${path} is no route`)
})

test('path parameters match the route\'s', () => {
  for (const { path, op } of operations()) {
    const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    const declared = paramsOf(path, op).filter((p) => p.in === 'path').map((p) => p.name).sort()
    assert.equal(declared, inPath, path)
  }
})

test('every $ref resolves', () => {
  const walk = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return
    const ref = (node as { $ref?: unknown }).$ref
    if (typeof ref === 'string') resolveRef(doc, ref)
    for (const child of Object.values(node)) walk(child)
  }
  walk(doc)
})

test('operation ids are unique and every operation has a success and an error response', () => {
  const ids = new Set<string>()
  for (const { method, path, op } of operations()) {
    assert.type(op.operationId, 'string', `${method} ${path}`)
    assert.ok(!ids.has(op.operationId), op.operationId)
    ids.add(op.operationId)
    const codes = Object.keys(op.responses)
    assert.ok(codes.some((c) => c.startsWith('2')), `${method} ${path}: no 2xx`)
    if (path !== '/openapi.json' && path !== '/.well-known/openapi.json') assert.ok(codes.some((c) => c.startsWith('4')), `${method} ${path}: no 4xx`)
  }
})

test('write routes take an Idempotency-Key; GET routes do not', () => {
  for (const { method, path, op } of operations()) {
    const hasKey = paramsOf(path, op).some((p) => p.in === 'header' && p.name === 'Idempotency-Key')
    assert.is(hasKey, method !== 'GET', `${method} ${path}`)
  }
})

test('each route documents the security of its access level, and every non-public one a 401', () => {
  assert.equal(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  assert.is(doc.components.securitySchemes.leaseToken.scheme, 'bearer')
  const expected: Record<Access, string> = {
    public: '[]',
    api: '[{"bearerAuth":[]}]',
    lease: '[{"leaseToken":[]}]',
    api_or_lease: '[{"bearerAuth":[]},{"leaseToken":[]}]',
  }
  const access = new Map(ROUTES.map((r) => [`${r.method} ${openapiPath(r.path)}`, r.access]))
  for (const { method, path, op } of operations()) {
    const level = access.get(`${method} ${path}`)!
    assert.is(JSON.stringify(op.security ?? doc.security ?? []), expected[level], `${method} ${path}`)
    if (level !== 'public') assert.ok(op.responses['401'], `${method} ${path}: no 401`)
  }
})

test('every documented path answers 405 to an undocumented method, with Allow listing the documented ones', async ({ s }) => {
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Op>>)) {
    const documented = METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase())
    const allow = [...documented, ...(documented.includes('GET') ? ['HEAD'] : [])].sort().join(', ')
    const url = path.replace(/\{\w+\}/g, 'x1')
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'].filter((m) => !documented.includes(m))) {
      const res = await s.request(method, url)
      assert.is(res.status, 405, `${method} ${url}: ${res.text}`)
      assert.is(res.headers.get('allow'), allow, `${method} ${url}`)
    }
  }
})

/** The JSON request body schema of each operation that has one (OTLP/JSON is left out: OTLP ignores unknown fields). */
const jsonBodies = () => operations()
  .filter(({ path, op }) => op.requestBody?.content['application/json'] !== undefined && !path.endsWith('/v1/traces'))
  .map(({ method, path, op }) => ({ method, path, schema: op.requestBody.content['application/json'].schema as Op }))

test('request bodies say whether they take unknown fields: every object with properties sets additionalProperties', () => {
  const walk = (node: Op, at: string): void => {
    const schema = deref(node)
    if (schema.properties !== undefined) assert.type(schema.additionalProperties, 'boolean', at)
    if (schema.additionalProperties === true) return // free-form: its fields are anything
    for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, Op>)) walk(child, `${at}.${key}`)
    for (const child of (schema.oneOf ?? []) as Op[]) walk(child, at)
    if (schema.items !== undefined) walk(schema.items, `${at}[]`)
  }
  for (const { method, path, schema } of jsonBodies()) walk(schema, `${method} ${path}`)
})

test('the server knows every documented request field', async ({ s }) => {
  // Every documented field at once, null or an empty value: type errors are expected, unknown fields are not.
  const skeleton = (node: Op): unknown => {
    const schema = deref(node)
    const options = (schema.oneOf ?? []) as Op[]
    if (options.length > 0) return skeleton(options.find((o) => deref(o).type !== 'null')!)
    if (schema.properties !== undefined && schema.additionalProperties === false) {
      return Object.fromEntries(Object.entries(schema.properties as Record<string, Op>).map(([key, child]) => [key, skeleton(child)]))
    }
    if (schema.type === 'array' && deref(schema.items).properties !== undefined) return [skeleton(schema.items)]
    return null
  }
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const l: Lease = (await s.request('POST', '/leases/claim', { agent_id: 'a', agent_role: role })).body
  for (const { method, path, schema } of jsonBodies()) {
    const url = path.replace('{id}', path.startsWith('/tasks') ? taskId : path.startsWith('/pipelines') ? pipelineId : path.startsWith('/leases') ? l.lease_id : l.run.id)
    const res = await s.request(method, url.replace(/\{\w+\}/g, 'x1'), skeleton(schema), bearer(l.lease_token))
    const unknown = (res.body?.error?.details ?? []).filter((d: { message: string }) => d.message.startsWith('unknown field'))
    assert.equal(unknown, [], `${method} ${path}: ${res.text}`)
  }
})

test('both OpenAPI routes serve this document', async ({ s }) => {
  for (const path of ['/openapi.json', '/.well-known/openapi.json']) {
    assert.equal(expectStatus(await s.request('GET', path), 200).body, doc)
  }
})

/** The documented schema of one answer, checked against a real one. */
async function expectDocumented(s: TestServer, method: string, routePath: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<Res> {
  const res = await s.request(method, url, body, headers)
  const op = doc.paths[openapiPath(routePath)][method.toLowerCase()]
  const documented = op.responses[String(res.status)]
  assert.ok(documented, `${method} ${routePath} answered an undocumented ${res.status}: ${res.text}`)
  const response = deref(documented)
  if (res.status === 204) {
    assert.is(response.content, undefined)
    return res
  }
  const problems = schemaProblems(doc, response.content['application/json'].schema, res.body)
  assert.equal(problems, [], `${method} ${routePath} ${res.status}: ${res.text}`)
  if (res.status >= 400) {
    const codes = (response.content['application/json'].examples ?? {}) as Record<string, { value: { error: { code: string } } }>
    const documentedCodes = Object.values(codes).map((e) => deref(e).value.error.code)
    assert.ok(documentedCodes.includes(res.body.error.code), `${method} ${routePath} ${res.status} ${res.body.error.code} not among ${documentedCodes}`)
  }
  return res
}

test('real answers match the documented schemas and error codes', async ({ s }) => {
  const pipelineId = await createPipeline(s)
  const up = await createTask(s, pipelineId)
  const id = await createTask(s, pipelineId, { dependencies: [up], assigned_agent_id: 'a', metadata: ['x'] })
  await expectDocumented(s, 'GET', '/health', '/health')
  await expectDocumented(s, 'GET', '/pipelines', '/pipelines')
  await expectDocumented(s, 'GET', '/pipelines/:id', `/pipelines/${pipelineId}`)
  await expectDocumented(s, 'GET', '/pipelines/:id', '/pipelines/ghost')
  await expectDocumented(s, 'POST', '/pipelines', '/pipelines', { name: 'x', definition: { initial: 'a' } })
  await expectDocumented(s, 'POST', '/pipelines', '/pipelines', '{')
  await expectDocumented(s, 'POST', '/tasks', '/tasks', { pipeline_id: pipelineId, title: 't', description: 'd' })
  await expectDocumented(s, 'POST', '/tasks', '/tasks', { pipeline_id: 'ghost', title: 't', description: 'd' })
  await expectDocumented(s, 'POST', '/tasks', '/tasks', { pipeline_id: pipelineId, title: 't', description: 'd', dependencies: [up, up] })
  await expectDocumented(s, 'POST', '/tasks/bulk', '/tasks/bulk', { tasks: [{ pipeline_id: pipelineId, title: 't', description: 'd' }] })
  await expectDocumented(s, 'POST', '/tasks/bulk', '/tasks/bulk', { tasks: [] })
  await expectDocumented(s, 'GET', '/tasks', '/tasks?limit=2')
  await expectDocumented(s, 'GET', '/tasks', '/tasks?limit=0')
  await expectDocumented(s, 'GET', '/tasks', '/tasks?cursor=x')
  await expectDocumented(s, 'GET', '/tasks/:id', `/tasks/${id}`)
  await expectDocumented(s, 'GET', '/tasks/:id', '/tasks/ghost')
  await expectDocumented(s, 'GET', '/tasks/:id/run-state', `/tasks/${id}/run-state`)
  await expectDocumented(s, 'GET', '/tasks/:id/runs', `/tasks/${id}/runs`)
  await expectDocumented(s, 'GET', '/tasks/:id/dependencies', `/tasks/${id}/dependencies`)
  await expectDocumented(s, 'POST', '/tasks/:id/dependencies', `/tasks/${up}/dependencies`, { depends_on_task_id: id })
  await expectDocumented(s, 'POST', '/tasks/:id/dependencies', `/tasks/${up}/dependencies`, { depends_on_task_id: up })
  await expectDocumented(s, 'DELETE', '/tasks/:id/dependencies/:depends_on_task_id', `/tasks/${id}/dependencies/${up}`)
  await expectDocumented(s, 'GET', '/tasks/:id/assignments', `/tasks/${id}/assignments`)
  await expectDocumented(s, 'POST', '/tasks/:id/assignments', `/tasks/${id}/assignments`, { agent_id: 'b' })
  await expectDocumented(s, 'DELETE', '/tasks/:id/assignments/:agent_id', `/tasks/${id}/assignments/b`)
  await expectDocumented(s, 'DELETE', '/tasks/:id/assignments/:agent_id', `/tasks/${id}/assignments/b`)
})

test('real answers of the lease, run, artifact, ops and control routes match the documented schemas', async ({ s }) => {
  const documented = async (status: number, method: string, routePath: string, url: string, body?: unknown, headers?: Record<string, string>) =>
    expectStatus(await expectDocumented(s, method, routePath, url, body, headers), status)
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId, { retry_policy: { max_attempts: 1 } })
  s.clock.advance(1)
  const other = await createTask(s, pipelineId)
  await documented(204, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: unique('nobody') })
  await documented(400, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: role, wait_ms: 60_001 })
  await documented(400, 'POST', '/leases/claim', '/leases/claim', '[]')
  const l: Lease = (await documented(200, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: role, lease_ttl_ms: 1_000, concurrency: { per_state: { work: 2 } } })).body
  const auth = bearer(l.lease_token)
  const runId = l.run.id
  await documented(200, 'POST', '/leases/:id/heartbeat', `/leases/${l.lease_id}/heartbeat`, undefined, auth)
  await documented(400, 'POST', '/leases/:id/heartbeat', `/leases/${l.lease_id}/heartbeat`, { lease_ttl_ms: 1 }, auth)
  await documented(401, 'POST', '/leases/:id/heartbeat', `/leases/${l.lease_id}/heartbeat`)
  await documented(401, 'POST', '/leases/:id/heartbeat', `/leases/${l.lease_id}/heartbeat`, undefined, bearer('abc'))
  await documented(404, 'POST', '/leases/:id/heartbeat', '/leases/ghost/heartbeat', undefined, auth)
  await documented(404, 'POST', '/leases/:id/release', '/leases/ghost/release', undefined, auth)
  await documented(400, 'POST', '/leases/:id/release', `/leases/${l.lease_id}/release`, { delay_ms: -1 }, auth)
  await documented(201, 'POST', '/runs/:id/events', `/runs/${runId}/events`, { kind: 'step', data: [1] }, auth)
  await documented(400, 'POST', '/runs/:id/events', `/runs/${runId}/events`, { kind: 'transition' }, auth)
  await documented(404, 'POST', '/runs/:id/events', '/runs/ghost/events', { kind: 'step' }, auth)
  await documented(200, 'GET', '/runs/:id/events', `/runs/${runId}/events?limit=1`)
  await documented(400, 'GET', '/runs/:id/events', `/runs/${runId}/events?cursor=x`)
  await documented(404, 'GET', '/runs/:id/events', '/runs/ghost/events')
  await documented(200, 'GET', '/runs/:id', `/runs/${runId}`)
  await documented(404, 'GET', '/runs/:id', '/runs/ghost')
  await documented(400, 'POST', '/runs/:id/transition', `/runs/${runId}/transition`, { trigger: 'nope' }, auth)
  await documented(409, 'POST', '/runs/:id/transition', `/runs/${runId}/transition`, { trigger: 'complete', expected_stage: 'x' }, auth)
  await documented(409, 'POST', '/runs/:id/transition', `/runs/${runId}/transition`, { trigger: 'complete', expected_task_version: 9 }, auth)
  await documented(400, 'POST', '/runs/:id/fail', `/runs/${runId}/fail`, {}, auth)
  s.clock.advance(1_000)
  await documented(410, 'POST', '/runs/:id/fail', `/runs/${runId}/fail`, { error: 'late' }, auth)
  await documented(410, 'POST', '/leases/:id/heartbeat', `/leases/${l.lease_id}/heartbeat`, undefined, auth)
  await documented(410, 'POST', '/leases/:id/release', `/leases/${l.lease_id}/release`, undefined, auth)
  const next: Lease = (await documented(200, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: role })).body
  await documented(404, 'POST', '/runs/:id/fail', `/runs/${runId}/fail`, { error: 'reaped' }, auth)
  await documented(200, 'POST', '/runs/:id/transition', `/runs/${next.run.id}/transition`, { trigger: 'complete', usage: { n: 1 } }, bearer(next.lease_token))
  await documented(404, 'POST', '/leases/:id/release', `/leases/${next.lease_id}/release`, {}, bearer(next.lease_token))
  await documented(200, 'GET', '/runs/:id', `/runs/${next.run.id}`)
  await documented(200, 'GET', '/runs/:id/events', `/runs/${runId}/events`)
  // The first task is dead-lettered by its reaped lease, the other one is done.
  await documented(204, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: role })
  await documented(400, 'POST', '/tasks/:id/requeue', `/tasks/${taskId}/requeue`, { stage: 'nowhere' })
  await documented(200, 'POST', '/tasks/:id/requeue', `/tasks/${taskId}/requeue`, { stage: 'work' })
  const fourth: Lease = (await documented(200, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: role })).body
  await documented(409, 'POST', '/tasks/:id/requeue', `/tasks/${taskId}/requeue`)
  await documented(200, 'POST', '/tasks/:id/cancel', `/tasks/${taskId}/cancel`, { reason: 'enough' })
  await documented(200, 'POST', '/tasks/:id/cancel', `/tasks/${taskId}/cancel`)
  await documented(400, 'POST', '/tasks/:id/cancel', '/tasks/ghost/cancel', '{')
  await documented(404, 'POST', '/tasks/:id/cancel', '/tasks/ghost/cancel')
  await documented(409, 'POST', '/leases/:id/heartbeat', `/leases/${fourth.lease_id}/heartbeat`, undefined, bearer(fourth.lease_token))
  await documented(409, 'POST', '/leases/:id/release', `/leases/${fourth.lease_id}/release`, undefined, bearer(fourth.lease_token))
  await documented(409, 'POST', '/runs/:id/transition', `/runs/${fourth.run.id}/transition`, { trigger: 'complete' }, bearer(fourth.lease_token))
  await documented(404, 'POST', '/tasks/:id/requeue', '/tasks/ghost/requeue')
  await documented(201, 'POST', '/artifacts', '/artifacts', { task_id: other, run_id: next.run.id, kind: 'log', uri: 'file:///x', size_bytes: 3 })
  await documented(400, 'POST', '/artifacts', '/artifacts', { task_id: taskId, run_id: next.run.id, kind: 'log', uri: 'u' })
  await documented(404, 'POST', '/artifacts', '/artifacts', { task_id: 'ghost', kind: 'log', uri: 'u' })
  await documented(404, 'POST', '/artifacts', '/artifacts', { run_id: 'ghost', kind: 'log', uri: 'u' })
  await documented(200, 'GET', '/artifacts', `/artifacts?task_id=${other}&limit=1`)
  await documented(400, 'GET', '/artifacts', '/artifacts?cursor=x')
  await documented(200, 'GET', '/ops/queue', '/ops/queue')
  await documented(400, 'GET', '/ops/queue', '/ops/queue?stuck_ms=-1')
  await documented(200, 'POST', '/pipelines/:id/pause', `/pipelines/${pipelineId}/pause`)
  await documented(400, 'POST', '/pipelines/:id/pause', `/pipelines/${pipelineId}/pause`, '5')
  await documented(200, 'POST', '/pipelines/:id/resume', `/pipelines/${pipelineId}/resume`, {})
  await documented(404, 'POST', '/pipelines/:id/resume', '/pipelines/ghost/resume')
  await createTask(s, pipelineId)
  const fifth: Lease = (await documented(200, 'POST', '/leases/claim', '/leases/claim', { agent_id: 'a', agent_role: role, pipeline_id: pipelineId })).body
  await documented(200, 'POST', '/leases/:id/release', `/leases/${fifth.lease_id}/release`, { reason: 'later', delay_ms: 10 }, bearer(fifth.lease_token))
})

test('real OTLP answers match the documented ones, the protobuf 400 included', async ({ s }) => {
  const json = { 'content-type': 'application/json' }
  const key = { ...json, 'idempotency-key': unique('key') }
  for (const path of ['/v1/traces', '/otlp/v1/traces']) {
    expectStatus(await expectDocumented(s, 'POST', path, path, { resourceSpans: [] }, json), 200)
    expectStatus(await expectDocumented(s, 'POST', path, path, '{', json), 400)
    expectStatus(await expectDocumented(s, 'POST', path, path, { resourceSpans: [] }, key), 200)
    expectStatus(await expectDocumented(s, 'POST', path, path, { resourceSpans: null }, key), 409)
    const res = expectStatus(await s.request('POST', path, 'abc', { 'content-type': 'application/x-protobuf' }), 400)
    assert.is(res.headers.get('content-type'), 'application/x-protobuf')
    assert.ok(doc.paths[path].post.responses['400'].content['application/x-protobuf'], `${path}: protobuf 400 not documented`)
  }
})

test('ExportTraceServiceRequest documents every field of what the official JSON exporter sends', async ({ s }) => {
  const copy = JSON.parse(TEXT)
  for (const [name, schema] of Object.entries(copy.components.schemas as Record<string, Op>)) {
    if (name === 'ExportTraceServiceRequest' || (name.startsWith('Otlp') && schema.properties !== undefined)) schema.additionalProperties = false
  }
  const spans = [
    ...makeTrace({ 'service.name': 's', n: 1 }, { 'docket.run_id': 'r', list: ['a', 'b'], flag: true, ratio: 0.5 }, 2),
    readableSpan({ parentSpanId: '0102030405060708', attributes: { nested: { deep: { n: 1, l: [1.5, 'x'] } } as never, blob: new Uint8Array([1, 2]) as never } }),
  ]
  const payload = JSON.parse(Buffer.from(JsonTraceSerializer.serializeRequest(spans)!).toString())
  assert.equal(schemaProblems(copy, { $ref: '#/components/schemas/ExportTraceServiceRequest' }, payload), [])
  assert.is(expectStatus(await s.request('POST', '/v1/traces', payload, { 'content-type': 'application/json' }), 200).body.accepted_spans, spans.length)
})

test('claims, events, artifacts and queue statistics answer no undocumented field', async ({ s }) => {
  const strict = (node: unknown): void => {
    if (node === null || typeof node !== 'object') return
    const o = node as Record<string, any>
    if (o.type === 'object' && o.properties !== undefined && o.additionalProperties === undefined) o.additionalProperties = false
    for (const child of Object.values(o)) strict(child)
  }
  const copy = JSON.parse(TEXT)
  for (const name of ['Claim', 'EventPage', 'Event', 'ArtifactPage', 'Artifact', 'QueueStats', 'RoleQueueStats']) strict(copy.components.schemas[name])
  const { pipelineId, role } = await singleStage(s)
  const taskId = await createTask(s, pipelineId)
  const l: Lease = (await s.request('POST', '/leases/claim', { agent_id: 'a', agent_role: role })).body
  assert.equal(schemaProblems(copy, { $ref: '#/components/schemas/Claim' }, l), [])
  expectStatus(await s.request('POST', `/runs/${l.run.id}/events`, { kind: 'k' }, bearer(l.lease_token)), 201)
  const events = expectStatus(await s.request('GET', `/runs/${l.run.id}/events`), 200).body
  assert.equal(schemaProblems(copy, { $ref: '#/components/schemas/EventPage' }, events), [])
  expectStatus(await s.request('POST', '/artifacts', { task_id: taskId, kind: 'k', uri: 'u' }), 201)
  const artifacts = expectStatus(await s.request('GET', `/artifacts?task_id=${taskId}`), 200).body
  assert.equal(schemaProblems(copy, { $ref: '#/components/schemas/ArtifactPage' }, artifacts), [])
  const stats = expectStatus(await s.request('GET', '/ops/queue'), 200).body
  assert.equal(schemaProblems(copy, { $ref: '#/components/schemas/QueueStats' }, stats), [])
})

test.run()
