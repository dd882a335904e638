import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectStatus } from '../helpers/fixtures.ts'
import { resolveRef, schemaProblems } from '../helpers/schema.ts'
import { ROUTES } from '../../src/app.ts'

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

test('bearer security applies everywhere except the public routes', () => {
  assert.equal(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  const isPublic = new Map(ROUTES.map((r) => [`${r.method} ${openapiPath(r.path)}`, r.access === 'public']))
  for (const { method, path, op } of operations()) {
    const security: unknown[] = op.security ?? doc.security ?? []
    if (isPublic.get(`${method} ${path}`)) assert.equal(security, [], `${method} ${path}`)
    else {
      assert.ok(security.some((s) => JSON.stringify(s) === '{"bearerAuth":[]}'), `${method} ${path}: no bearer`)
      assert.ok(op.responses['401'], `${method} ${path}: no 401`)
    }
  }
})

test('both OpenAPI routes serve this document', async ({ s }) => {
  for (const path of ['/openapi.json', '/.well-known/openapi.json']) {
    assert.equal(expectStatus(await s.request('GET', path), 200).body, doc)
  }
})

/** The documented schema of one answer, checked against a real one. */
async function expectDocumented(s: TestServer, method: string, routePath: string, url: string, body?: unknown): Promise<void> {
  const res = await s.request(method, url, body)
  const op = doc.paths[openapiPath(routePath)][method.toLowerCase()]
  const documented = op.responses[String(res.status)]
  assert.ok(documented, `${method} ${routePath} answered an undocumented ${res.status}: ${res.text}`)
  const response = deref(documented)
  if (res.status === 204) return assert.is(response.content, undefined)
  const problems = schemaProblems(doc, response.content['application/json'].schema, res.body)
  assert.equal(problems, [], `${method} ${routePath} ${res.status}: ${res.text}`)
  if (res.status >= 400) {
    const codes = (response.content['application/json'].examples ?? {}) as Record<string, { value: { error: { code: string } } }>
    const documentedCodes = Object.values(codes).map((e) => deref(e).value.error.code)
    assert.ok(documentedCodes.includes(res.body.error.code), `${method} ${routePath} ${res.status} ${res.body.error.code} not among ${documentedCodes}`)
  }
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

test.run()
