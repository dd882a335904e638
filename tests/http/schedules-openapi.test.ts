import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, unique } from '../helpers/fixtures.ts'
import { resolveRef, schemaProblems } from '../helpers/schema.ts'
import { fireDue, putSchedule } from '../helpers/schedules.ts'

// The schedule routes' real answers against openapi.json (tests/http/openapi.test.ts checks the rest).
const doc = JSON.parse(readFileSync(new URL('../../openapi.json', import.meta.url), 'utf8'))
const deref = (node: any) => (node.$ref === undefined ? node : resolveRef(doc, node.$ref))

const test = suite<{ s: TestServer }>('schedules in openapi.json', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

async function documented(s: TestServer, method: string, path: string, url: string, body?: unknown): Promise<void> {
  const res = await s.request(method, url, body)
  const response = doc.paths[path][method.toLowerCase()].responses[String(res.status)]
  assert.ok(response, `${method} ${path} answered an undocumented ${res.status}: ${res.text}`)
  const { content } = deref(response)
  if (res.status === 204) return assert.is(content, undefined)
  assert.equal(schemaProblems(doc, content['application/json'].schema, res.body), [], `${method} ${path} ${res.status}: ${res.text}`)
  if (res.status >= 400) {
    const codes = Object.values(content['application/json'].examples ?? {}).map((e: any) => deref(e).value.error.code)
    assert.ok(codes.includes(res.body.error.code), `${method} ${path} ${res.status} ${res.body.error.code} not among ${codes}`)
  }
}

test('every schedule route answers as documented', async ({ s }) => {
  const pipeline_id = await createPipeline(s)
  const { name } = await putSchedule(s, { cron: '* * * * *', timezone: 'Europe/Stockholm' }, pipeline_id)
  const at = `/schedules/${name}`
  await documented(s, 'PUT', '/schedules/{name}', at, { every_ms: 1000, task: { pipeline_id, title: 't', metadata: { a: 1 } } })
  await documented(s, 'PUT', '/schedules/{name}', `/schedules/${unique('n')}`, { at: '2030-01-01T00:00:00Z', task: { pipeline_id, title: 't' } })
  await documented(s, 'PUT', '/schedules/{name}', at, { every_ms: 10, task: { pipeline_id, title: 't' } })
  await documented(s, 'PUT', '/schedules/{name}', at, '{')
  await documented(s, 'GET', '/schedules/{name}', at)
  await documented(s, 'GET', '/schedules/{name}', `/schedules/${unique('ghost')}`)
  await documented(s, 'GET', '/schedules', '/schedules?limit=1')
  await documented(s, 'GET', '/schedules', '/schedules?limit=0')
  await documented(s, 'GET', '/schedules/state', '/schedules/state')
  await documented(s, 'POST', '/schedules/{name}/trigger', `${at}/trigger`)
  await documented(s, 'POST', '/schedules/{name}/trigger', `/schedules/${unique('ghost')}/trigger`)
  s.clock.advance(1000)
  await fireDue(s)
  await documented(s, 'GET', '/schedules/{name}/tasks', `${at}/tasks?limit=1`)
  await documented(s, 'GET', '/schedules/{name}/tasks', `${at}/tasks?cursor=x`)
  await documented(s, 'POST', '/schedules/{name}/pause', `${at}/pause`)
  await documented(s, 'POST', '/schedules/{name}/resume', `${at}/resume`, {})
  await documented(s, 'POST', '/schedules/{name}/resume', `${at}/resume`, { x: 1 })
  await documented(s, 'POST', '/schedules/pause', '/schedules/pause')
  await documented(s, 'POST', '/schedules/resume', '/schedules/resume')
  await documented(s, 'DELETE', '/schedules/{name}', at)
  await documented(s, 'DELETE', '/schedules/{name}', at)
})

test.run()
