import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createTask, singleStage } from '../helpers/fixtures.ts'
import { consoleClient } from '../helpers/ui.ts'
import { rawRequest } from '../helpers/raw.ts'

const TOKEN = 'console-test-token-0123456789'
const auth = { authorization: `Bearer ${TOKEN}` }

type Ctx = { s: TestServer }
const test = suite<Ctx>('ui security', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer({ token: TOKEN }) })

/** The server as an API client with the token sees it. */
const withToken = (s: TestServer): TestServer => ({ ...s, request: (m, path, body, headers) => s.request(m, path, body, { ...auth, ...headers }) })
test.after(async (ctx) => ctx.s.close())

test('with a token, every page sends a browser without a session to the login page', async ({ s }) => {
  const c = consoleClient(s)
  for (const path of ['/ui', '/ui/', '/ui/tasks', '/ui/dead-letters', '/ui/pipelines', '/ui/store', '/ui/tasks/nope']) {
    const res = await c.get(path)
    assert.is(res.status, 303, path)
    assert.is(res.headers.get('location'), '/ui/login', path)
  }
  const login = await c.get('/ui/login')
  assert.is(login.status, 200)
  assert.match(login.text, 'type="password"')
})

test('a wrong token is refused and sets no cookie; the right one sets an HttpOnly SameSite=Strict cookie', async ({ s }) => {
  const c = consoleClient(s)
  const wrong = await c.post('/ui/login', { token: 'not-it' })
  assert.is(wrong.status, 401)
  assert.is(wrong.headers.get('set-cookie'), null)
  const right = await c.login(TOKEN)
  const cookie = right.headers.get('set-cookie')!
  assert.match(cookie, /^docket_session=[\w.-]+; Path=\/ui; Max-Age=43200; HttpOnly; SameSite=Strict$/)
  assert.not.match(cookie, TOKEN)
  assert.not.match(right.headers.get('location')!, TOKEN)
  assert.is((await c.get('/ui/')).status, 200)
})

test('the login form is refused from another origin', async ({ s }) => {
  const c = consoleClient(s)
  const res = await c.post('/ui/login', { token: TOKEN }, { origin: 'http://evil.example' })
  assert.is(res.status, 403)
  assert.is(res.headers.get('set-cookie'), null)
})

test('a forged or expired session cookie counts as none', async ({ s }) => {
  const c = consoleClient(s)
  await c.login(TOKEN)
  const [expires, id, mac] = c.cookie!.slice('docket_session='.length).split('.')
  c.cookie = `docket_session=${Number(expires) + 1000}.${id}.${mac}`
  assert.is((await c.get('/ui/')).status, 303)
  const d = consoleClient(s)
  await d.login(TOKEN)
  s.clock.advance(12 * 3600_000 + 1)
  assert.is((await d.get('/ui/')).status, 303)
})

test('a state-changing form needs the session, this origin and the CSRF token', async ({ s }) => {
  const api = withToken(s)
  const { pipelineId } = await singleStage(api)
  const taskId = await createTask(api, pipelineId)
  const c = consoleClient(s)
  await c.login(TOKEN)
  await c.get(`/ui/tasks/${taskId}`)
  const cancel = `/ui/tasks/${taskId}/cancel`
  assert.is((await c.post(cancel, { _csrf: 'wrong' })).status, 403, 'wrong CSRF token')
  assert.is((await c.post(cancel, { _csrf: '' })).status, 403, 'no CSRF token')
  assert.is((await c.post(cancel, {}, { origin: 'http://evil.example' })).status, 403, 'other origin')
  const other = consoleClient(s)
  assert.is((await other.post(cancel, { _csrf: c.csrf! })).status, 403, 'no session')
  const task = await s.request('GET', `/tasks/${taskId}`, undefined, auth)
  assert.is(task.body.dead_letter_reason, null, 'nothing was canceled')
  const ok = await c.post(cancel, {})
  assert.is(ok.status, 303)
  assert.is((await s.request('GET', `/tasks/${taskId}`, undefined, auth)).body.dead_letter_reason, 'canceled')
})

test('pages carry a strict Content-Security-Policy and no inline script', async ({ s }) => {
  const c = consoleClient(s)
  await c.login(TOKEN)
  for (const path of ['/ui/', '/ui/tasks', '/ui/pipelines', '/ui/dead-letters', '/ui/store']) {
    const res = await c.get(path)
    assert.is(res.status, 200, path)
    const csp = res.headers.get('content-security-policy')!
    assert.match(csp, "script-src 'self'")
    assert.match(csp, "default-src 'none'")
    assert.not.match(csp, 'unsafe-inline')
    for (const m of res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)) {
      assert.match(m[1], /src="\/ui\/assets\//, path)
      assert.is(m[2].trim(), '', `${path}: inline script`)
    }
    assert.not.match(res.text, / on[a-z]+="/, `${path}: inline event handler`)
    assert.not.match(res.text, / style="/, `${path}: inline style`)
  }
})

test('logout ends the session', async ({ s }) => {
  const c = consoleClient(s)
  await c.login(TOKEN)
  await c.get('/ui/')
  const out = await c.post('/ui/logout', {})
  assert.is(out.status, 303)
  assert.match(out.headers.get('set-cookie')!, 'Max-Age=0')
  assert.is((await c.get('/ui/')).status, 303)
})

test('the API token is still required by the API, a console session does not open it', async ({ s }) => {
  const c = consoleClient(s)
  await c.login(TOKEN)
  const res = await fetch(`${s.url}/tasks`, { headers: { cookie: c.cookie! } })
  assert.is(res.status, 401)
})

test('bound to loopback, a request naming another host is refused (DNS rebinding), the login page too', async ({ s }) => {
  for (const path of ['/ui/', '/ui/login']) {
    const res = await rawRequest(s.url, 'GET', path, { headers: { host: 'evil.example:80' } })
    assert.is(res.status, 403, path)
  }
  const login = await rawRequest(s.url, 'POST', '/ui/login', {
    headers: { host: 'evil.example', origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    chunks: [`token=${TOKEN}`],
  })
  assert.is(login.status, 403)
  assert.is(login.headers['set-cookie'], undefined)
})

test('a return field that is not a plain console path is ignored, and an empty priority is refused', async ({ s }) => {
  const api = withToken(s)
  const { pipelineId } = await singleStage(api)
  const id = await createTask(api, pipelineId)
  const c = consoleClient(s)
  await c.login(TOKEN)
  await c.get(`/ui/tasks/${id}`)
  const res = await c.post(`/ui/tasks/${id}/priority`, { priority: '5', return: '/ui/x\r\nSet-Cookie: a=b' })
  assert.is(res.status, 303)
  assert.is(res.headers.get('location'), `/ui/tasks/${id}?done=reprioritized`)
  assert.is((await c.post(`/ui/tasks/${id}/priority`, { priority: '' })).status, 400)
  assert.is((await s.request('GET', `/tasks/${id}`, undefined, auth)).body.priority, 5)
})

test('a task whose time is past what a Date holds still has a page', async ({ s }) => {
  const api = withToken(s)
  const { pipelineId } = await singleStage(api)
  const id = await createTask(api, pipelineId, { not_before_ms: 9_000_000_000_000_000 })
  const c = consoleClient(s)
  await c.login(TOKEN)
  const page = await c.get(`/ui/tasks/${id}`)
  assert.is(page.status, 200)
  assert.match(page.text, '9000000000000000 ms')
})

test.run()
