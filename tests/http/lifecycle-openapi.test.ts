// The lifecycle routes' real answers against openapi.json (the general checks are in openapi.test.ts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectStatus, unique } from '../helpers/fixtures.ts'
import { resolveRef, schemaProblems } from '../helpers/schema.ts'

const doc = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'))
const test = suite<{ s: TestServer }>('lifecycle openapi', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

async function documented(s: TestServer, status: number, method: string, path: string, url: string, body?: unknown) {
  const res = expectStatus(await s.request(method, url, body), status)
  const op = doc.paths[path][method.toLowerCase()]
  const documented = op.responses[String(status)]
  assert.ok(documented, `${method} ${path} answered an undocumented ${status}`)
  const response = documented.$ref ? resolveRef(doc, documented.$ref) : documented
  if (status === 204) return res
  assert.equal(schemaProblems(doc, response.content['application/json'].schema, res.body), [], `${method} ${path} ${status}: ${res.text}`)
  if (status >= 400) {
    const codes = Object.values(response.content['application/json'].examples ?? {}).map((e: any) => resolveRef(doc, e.$ref).value.error.code)
    assert.ok(codes.includes(res.body.error.code), `${method} ${path} ${status} ${res.body.error.code} not among ${codes}`)
  }
  return res
}

test('edit, delete, events, wait, signal and bulk answers match the documented schemas and codes', async ({ s }) => {
  const role = unique('r')
  const pipelineId = await createPipeline(s, {
    initial: 'gate', states: { gate: { gate: true }, work: { agent_role: role }, done: { terminal: true } },
    transitions: [{ from: 'gate', to: 'work', trigger: 'go' }, { from: 'work', to: 'done', trigger: 'finish' }],
  })
  const id = await createTask(s, pipelineId)
  await documented(s, 200, 'PATCH', '/tasks/{id}', `/tasks/${id}`, { priority: 2, metadata_merge: { a: 1 } })
  await documented(s, 400, 'PATCH', '/tasks/{id}', `/tasks/${id}`, {})
  await documented(s, 404, 'PATCH', '/tasks/{id}', '/tasks/ghost', { priority: 1 })
  await documented(s, 409, 'PATCH', '/tasks/{id}', `/tasks/${id}`, { priority: 1, expected_task_version: 9 })
  await documented(s, 200, 'GET', '/tasks/{id}/events', `/tasks/${id}/events`)
  await documented(s, 400, 'GET', '/tasks/{id}/events', `/tasks/${id}/events?limit=0`)
  await documented(s, 404, 'GET', '/tasks/{id}/events', '/tasks/ghost/events')
  await documented(s, 202, 'GET', '/tasks/{id}/wait', `/tasks/${id}/wait?timeout_ms=0`)
  await documented(s, 400, 'GET', '/tasks/{id}/wait', `/tasks/${id}/wait?timeout_ms=60001`)
  await documented(s, 404, 'GET', '/tasks/{id}/wait', '/tasks/ghost/wait?timeout_ms=0')
  await documented(s, 400, 'POST', '/tasks/{id}/signal', `/tasks/${id}/signal`, { trigger: 'finish' })
  await documented(s, 409, 'POST', '/tasks/{id}/signal', `/tasks/${id}/signal`, { trigger: 'go', expected_stage: 'work' })
  await documented(s, 404, 'POST', '/tasks/{id}/signal', '/tasks/ghost/signal', { trigger: 'go' })
  await documented(s, 200, 'POST', '/tasks/{id}/signal', `/tasks/${id}/signal`, { trigger: 'go', data: { by: 'x' } })
  await documented(s, 409, 'POST', '/tasks/{id}/signal', `/tasks/${id}/signal`, { trigger: 'go' })
  await documented(s, 200, 'GET', '/tasks/{id}/wait', `/tasks/${id}/wait?timeout_ms=0&stage=work`)
  await documented(s, 200, 'GET', '/ops/queue', '/ops/queue')
  const lease = expectStatus(await s.request('POST', '/leases/claim', { agent_id: 'a', agent_role: role }), 200).body
  await documented(s, 409, 'DELETE', '/tasks/{id}', `/tasks/${id}`)
  await documented(s, 400, 'DELETE', '/tasks/{id}', `/tasks/${id}?force=yes`)
  await documented(s, 200, 'POST', '/tasks/requeue', '/tasks/requeue', { ids: [id, 'ghost'] })
  await documented(s, 400, 'POST', '/tasks/requeue', '/tasks/requeue', { filter: {} })
  await documented(s, 200, 'POST', '/tasks/cancel', '/tasks/cancel', { filter: { pipeline_id: pipelineId }, reason: 'r' })
  await documented(s, 400, 'POST', '/tasks/cancel', '/tasks/cancel', { ids: [] })
  await documented(s, 204, 'DELETE', '/tasks/{id}', `/tasks/${id}?force=true`)
  await documented(s, 404, 'DELETE', '/tasks/{id}', `/tasks/${id}`)
  assert.ok(lease.run.id)
})

test.run()
