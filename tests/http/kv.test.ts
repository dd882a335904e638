import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { expectError, expectStatus, unique } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('kv', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const enc = encodeURIComponent

async function putValue(s: TestServer, ns: string, key: string, value: unknown): Promise<void> {
  expectStatus(await s.request('PUT', `/store/${enc(ns)}/${enc(key)}`, { value }), 204)
}

test('put then get returns the value as sent with both timestamps', async ({ s }) => {
  const ns = unique('ns')
  const value = { title: 'x', n: 1.5, list: [1, null, true], nested: { nul: 'a\u0000b', emoji: '🦀' } }
  await putValue(s, ns, 'k', value)
  const res = expectStatus(await s.request('GET', `/store/${ns}/k`), 200)
  assert.equal(res.body, { namespace: ns, key: 'k', value, created_at_ms: s.clock.now(), updated_at_ms: s.clock.now() })
})

test('a put answers 204 with no body and no content type', async ({ s }) => {
  const res = expectStatus(await s.request('PUT', `/store/${unique('ns')}/k`, { value: 1 }), 204)
  assert.is(res.text, '')
  assert.is(res.headers.get('content-type'), null)
})

test('an upsert replaces the value and keeps created_at_ms', async ({ s }) => {
  const ns = unique('ns')
  await putValue(s, ns, 'k', 'first')
  const created = s.clock.now()
  s.clock.advance(5_000)
  await putValue(s, ns, 'k', null)
  const res = expectStatus(await s.request('GET', `/store/${ns}/k`), 200).body
  assert.is(res.value, null)
  assert.is(res.created_at_ms, created)
  assert.is(res.updated_at_ms, created + 5_000)
})

test('path segments are percent-decoded once, so %2F stays inside a key', async ({ s }) => {
  const ns = `${unique('team')} alpha`
  expectStatus(await s.request('PUT', `/store/${enc(ns)}/key%2F1`, { value: 'v' }), 204)
  const res = expectStatus(await s.request('GET', `/store/${enc(ns)}/key%2F1`), 200).body
  assert.is(res.namespace, ns)
  assert.is(res.key, 'key/1')
  expectError(await s.request('GET', `/store/${enc(ns)}/key/1`), 404, 'not_found')
})

test('a missing key is 404 not_found', async ({ s }) => {
  expectError(await s.request('GET', `/store/${unique('ns')}/nope`), 404, 'not_found')
})

test('deleting a key answers 204 whether or not it existed', async ({ s }) => {
  const ns = unique('ns')
  await putValue(s, ns, 'k', 1)
  expectStatus(await s.request('DELETE', `/store/${ns}/k`), 204)
  expectStatus(await s.request('DELETE', `/store/${ns}/k`), 204)
  expectError(await s.request('GET', `/store/${ns}/k`), 404, 'not_found')
})

test('deleting a namespace removes all its entries and only them', async ({ s }) => {
  const [ns, other] = [unique('ns'), unique('ns')]
  await putValue(s, ns, 'a', 1)
  await putValue(s, ns, 'b', 2)
  await putValue(s, other, 'a', 3)
  expectStatus(await s.request('DELETE', `/store/${ns}`), 204)
  assert.equal(expectStatus(await s.request('GET', `/store/${ns}`), 200).body, [])
  assert.is(expectStatus(await s.request('GET', `/store/${other}/a`), 200).body.value, 3)
})

test('listing without limit or cursor is a plain array in key byte order', async ({ s }) => {
  const ns = unique('ns')
  for (const key of ['b', 'a', 'B', 'é', 'a b']) await putValue(s, ns, key, key)
  const res = expectStatus(await s.request('GET', `/store/${ns}`), 200).body
  assert.equal(res.map((e: { key: string }) => e.key), ['B', 'a', 'a b', 'b', 'é'])
  assert.equal(expectStatus(await s.request('GET', `/store/${unique('empty')}`), 200).body, [])
})

test('listing with limit pages through every entry once', async ({ s }) => {
  const ns = unique('ns')
  const keys = ['k/1', 'k 2', 'k3', 'k4', 'k5']
  for (const key of keys) await putValue(s, ns, key, 0)
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const res: { items: Array<{ key: string }>; next_cursor: string | null } = expectStatus(
      await s.request('GET', `/store/${ns}?limit=2${cursor === null ? '' : `&cursor=${enc(cursor)}`}`), 200).body
    assert.ok(res.items.length <= 2)
    seen.push(...res.items.map((e) => e.key))
    cursor = res.next_cursor
  } while (cursor !== null)
  assert.equal(seen, [...keys].sort())
})

test('listing with a cursor alone returns a page', async ({ s }) => {
  const ns = unique('ns')
  for (const key of ['a', 'b', 'c']) await putValue(s, ns, key, 0)
  const first = expectStatus(await s.request('GET', `/store/${ns}?limit=1`), 200).body
  const rest = expectStatus(await s.request('GET', `/store/${ns}?cursor=${first.next_cursor}`), 200).body
  assert.equal(rest.items.map((e: { key: string }) => e.key), ['b', 'c'])
  assert.is(rest.next_cursor, null)
})

test('a bad list limit is 400 invalid_limit and a bad cursor 400 invalid_cursor', async ({ s }) => {
  const ns = unique('ns')
  for (const limit of ['0', '1001', '-1', 'x', '1.5']) expectError(await s.request('GET', `/store/${ns}?limit=${limit}`), 400, 'invalid_limit')
  for (const cursor of ['', '!!', 'a=', '_w']) expectError(await s.request('GET', `/store/${ns}?cursor=${cursor}`), 400, 'invalid_cursor')
})

test('PUT into namespace "search" is 400 reserved_namespace with a valid JSON body', async ({ s }) => {
  const res = expectError(await s.request('PUT', '/store/search/k', { value: 1 }), 400, 'reserved_namespace')
  assert.is(res.body.error.message, '"search" is a reserved namespace name')
  // Checked before the body, as in R.
  expectError(await s.request('PUT', '/store/search/k', '{'), 400, 'reserved_namespace')
})

test('GET /store/search/{key} reads namespace "search"; DELETE /store/search is the search path, 405', async ({ s }) => {
  expectError(await s.request('GET', '/store/search/k'), 404, 'not_found')
  const res = expectError(await s.request('DELETE', '/store/search'), 405, 'method_not_allowed')
  assert.is(res.headers.get('allow'), 'GET, HEAD')
})

test('a broken or non-object body is 400 invalid_json', async ({ s }) => {
  for (const body of ['{', '', '[1]', 'null', '{"value":1}x']) {
    expectError(await s.request('PUT', `/store/${unique('ns')}/k`, body), 400, 'invalid_json')
  }
})

test('a body without value is 400 validation_failed naming value', async ({ s }) => {
  const res = expectError(await s.request('PUT', `/store/${unique('ns')}/k`, { other: 1 }), 400, 'validation_failed')
  assert.is(res.body.error.details[0].path, 'value')
})

test('a value nested deeper than 64 levels is 400 validation_failed', async ({ s }) => {
  const deep = '['.repeat(200) + ']'.repeat(200)
  expectError(await s.request('PUT', `/store/${unique('ns')}/k`, `{"value":${deep}}`), 400, 'validation_failed')
  const veryDeep = '['.repeat(100_000) + ']'.repeat(100_000)
  const res = await s.request('PUT', `/store/${unique('ns')}/k`, `{"value":${veryDeep}}`)
  assert.ok(res.status === 400, res.text.slice(0, 200))
})

test('a value larger than the body limit is 413 payload_too_large', async ({ s }) => {
  const res = await s.request('PUT', `/store/${unique('ns')}/k`, { value: 'x'.repeat(1024 * 1024) })
  expectError(res, 413, 'payload_too_large')
})

test('namespace and key longer than 512 bytes are 400 validation_failed; 512 bytes work', async ({ s }) => {
  const ns = unique('ns')
  await putValue(s, ns, 'é'.repeat(256), 1)
  const long = enc('é'.repeat(257))
  const res = expectError(await s.request('PUT', `/store/${long}/${long}`, { value: 1 }), 400, 'validation_failed')
  assert.equal(res.body.error.details.map((d: { path: string }) => d.path), ['namespace', 'key'])
  expectError(await s.request('GET', `/store/${ns}/${long}`), 400, 'validation_failed')
  expectError(await s.request('GET', `/store/${long}`), 400, 'validation_failed')
})

test('a key that is not valid UTF-8 once decoded is 400 validation_failed', async ({ s }) => {
  for (const key of ['%FF', '%C3', '%ED%A0%80', '%zz%']) {
    expectError(await s.request('PUT', `/store/${unique('ns')}/${key}`, { value: 1 }), 400, 'validation_failed')
  }
})

test('an Idempotency-Key replays a put without applying it twice', async ({ s }) => {
  const ns = unique('ns')
  const headers = { 'idempotency-key': unique('idem') }
  expectStatus(await s.request('PUT', `/store/${ns}/k`, { value: 1 }, headers), 204)
  s.clock.advance(1_000)
  expectStatus(await s.request('PUT', `/store/${ns}/k`, { value: 1 }, headers), 204)
  assert.is(expectStatus(await s.request('GET', `/store/${ns}/k`), 200).body.updated_at_ms, s.clock.now() - 1_000)
  expectError(await s.request('PUT', `/store/${ns}/k`, { value: 2 }, headers), 409, 'idempotency_conflict')
})

test('PUT /store/{ns} without a key is 405 with an Allow header', async ({ s }) => {
  const res = expectError(await s.request('PUT', `/store/${unique('ns')}`, { value: 1 }), 405, 'method_not_allowed')
  assert.is(res.headers.get('allow'), 'DELETE, GET, HEAD')
})

test.run()
