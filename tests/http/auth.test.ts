import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { claim, expectError, expectStatus, linearDefinition, unique } from '../helpers/fixtures.ts'
import { ROUTES } from '../../src/app.ts'
import { authMode } from '../../src/domain/auth.ts'

const TOKEN = 'secret-token-0123'
type Ctx = { s: TestServer }
const test = suite<Ctx>('auth', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({ token: TOKEN }) })
test.after(async (ctx) => ctx.s.close())

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const PUBLIC = ['/health', '/ready', '/openapi.json', '/.well-known/openapi.json']

test('the public routes answer without a token', async ({ s }) => {
  for (const path of PUBLIC) {
    expectStatus(await s.request('GET', path), 200)
    expectStatus(await s.request('GET', path, undefined, bearer('wrong')), 200)
  }
})

test('/health reports which credentials a client needs', async ({ s }) => {
  assert.is(expectStatus(await s.request('GET', '/health'), 200).body.auth, 'token')
  assert.equal([authMode(null, false), authMode(TOKEN, false), authMode(null, true), authMode(TOKEN, true)], ['none', 'token', 'mtls', 'token+mtls'])
})

test('exactly the health and OpenAPI routes are public', async () => {
  assert.equal(ROUTES.filter((r) => r.access === 'public').map((r) => r.path).sort(), [...PUBLIC].sort())
})

test('every API route without a token is 401 unauthorized', async ({ s }) => {
  for (const route of ROUTES.filter((r) => r.access === 'api')) {
    const body = route.method === 'GET' ? undefined : '{}'
    expectError(await s.request(route.method, route.path.replace(/:\w+/g, 'x'), body), 401, 'unauthorized')
  }
})

test('a wrong, prefixed, extended or badly-schemed token is 401 unauthorized', async ({ s }) => {
  const headers = [
    bearer('wrong'), bearer(TOKEN.slice(0, -1)), bearer(`${TOKEN}x`), bearer(''), bearer(` ${TOKEN}`),
    { authorization: `bearer ${TOKEN}` }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` },
  ]
  for (const h of headers) {
    const res = expectError(await s.request('GET', '/tasks', undefined, h), 401, 'unauthorized')
    assert.is(res.body.error.message, 'Missing or invalid Authorization header')
  }
})

test('the right token opens the API', async ({ s }) => {
  expectStatus(await s.request('GET', '/tasks', undefined, bearer(TOKEN)), 200)
  const res = expectStatus(await s.request('POST', '/pipelines', { name: unique('p'), definition: linearDefinition({ work: unique('w'), review: unique('r') }) }, bearer(TOKEN)), 201)
  expectStatus(await s.request('GET', `/pipelines/${res.body.id}`, undefined, bearer(TOKEN)), 200)
})

test('an unknown path is 401 without the token and 404 with it', async ({ s }) => {
  expectError(await s.request('GET', '/nope'), 401, 'unauthorized')
  expectError(await s.request('GET', '/nope', undefined, bearer(TOKEN)), 404, 'not_found')
  expectError(await s.request('PATCH', '/tasks'), 401, 'unauthorized')
  expectError(await s.request('PATCH', '/tasks', undefined, bearer(TOKEN)), 405, 'method_not_allowed')
})

test('a wrong method on a public path is 405 without a token', async ({ s }) => {
  for (const path of PUBLIC) {
    const res = expectError(await s.request('POST', path, '{}'), 405, 'method_not_allowed')
    assert.is(res.headers.get('allow'), 'GET, HEAD')
  }
})

test('with an API token, lease routes take only the lease token; run reads take either token', async ({ s }) => {
  const api = bearer(TOKEN)
  const work = unique('w')
  const pipelineId = expectStatus(await s.request('POST', '/pipelines', { name: unique('p'), definition: linearDefinition({ work, review: unique('r') }) }, api), 201).body.id
  for (let i = 0; i < 2; i++) expectStatus(await s.request('POST', '/tasks', { pipeline_id: pipelineId, title: 't', description: 'd' }, api), 201)
  const mine = (await claim(s, work, {}, api))!
  const theirs = (await claim(s, work, {}, api))!
  for (const path of [`/runs/${mine.run.id}`, `/runs/${mine.run.id}/events`]) {
    expectStatus(await s.request('GET', path, undefined, api), 200)
    expectStatus(await s.request('GET', path, undefined, bearer(mine.lease_token)), 200)
    expectError(await s.request('GET', path, undefined, bearer(theirs.lease_token)), 401, 'unauthorized')
    expectError(await s.request('GET', path), 401, 'unauthorized')
  }
  const heartbeat = `/leases/${mine.lease_id}/heartbeat`
  expectStatus(await s.request('POST', heartbeat, undefined, bearer(mine.lease_token)), 200)
  expectError(await s.request('POST', heartbeat, undefined, api), 401, 'unauthorized')
  expectError(await s.request('POST', heartbeat), 401, 'unauthorized')
  expectStatus(await s.request('POST', `/runs/${mine.run.id}/events`, { kind: 'step' }, bearer(mine.lease_token)), 201)
  expectError(await s.request('POST', `/runs/${mine.run.id}/events`, { kind: 'step' }, api), 401, 'unauthorized')
})

test('a failed auth writes nothing', async ({ s }) => {
  const name = unique('p')
  expectError(await s.request('POST', '/pipelines', { name, definition: linearDefinition({ work: 'w', review: 'r' }) }), 401, 'unauthorized')
  const all = expectStatus(await s.request('GET', '/pipelines', undefined, bearer(TOKEN)), 200).body
  assert.ok(!all.some((p: { name: string }) => p.name === name))
})

test.run()
