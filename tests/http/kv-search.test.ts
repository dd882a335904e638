import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { startServer, TEST_DRIVER, type TestServer } from '../helpers/server.ts'
import { expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { RANKED_CANDIDATES } from '../../src/domain/search.ts'

const test = suite<{ s: TestServer }>('kv search', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

/** A word no other test uses (letters and digits only), so a search sees only this test's entries. */
const word = () => unique('w').replaceAll('-', 'x')

async function putValue(s: TestServer, ns: string, key: string, value: unknown): Promise<void> {
  expectStatus(await s.request('PUT', `/store/${encodeURIComponent(ns)}/${encodeURIComponent(key)}`, { value }), 204)
}

const search = (s: TestServer, query: Record<string, string>) => s.request('GET', `/store/search?${new URLSearchParams(query)}`)
const keysOf = (res: { body: Array<{ key: string }> }) => res.body.map((e) => e.key)

test('a hit carries the entry, a highlighted snippet and its bm25 rank', async ({ s }) => {
  const [ns, w] = [unique('ns'), word()]
  const value = { title: 'Deploy plan', body: `We roll out ${w} on Friday after the freeze.` }
  await putValue(s, ns, 'plan', value)
  const [hit] = expectStatus(await search(s, { q: w }), 200).body
  assert.equal({ ...hit, snippet: undefined, rank: undefined },
    { namespace: ns, key: 'plan', value, created_at_ms: s.clock.now(), updated_at_ms: s.clock.now(), snippet: undefined, rank: undefined })
  assert.ok(hit.snippet.includes(`**${w}**`), hit.snippet)
  assert.type(hit.rank, 'number')
})

test('more relevant entries rank first', async ({ s }) => {
  const w = word()
  const ns = unique('ns')
  await putValue(s, ns, 'once', `${w} appears once among many other words in a longer text about other things`)
  await putValue(s, ns, 'often', `${w} ${w} ${w}`)
  const res = expectStatus(await search(s, { q: w }), 200)
  assert.equal(keysOf(res), ['often', 'once'])
  assert.ok(res.body[0].rank < res.body[1].rank)
})

test('terms are ANDed literal phrases', async ({ s }) => {
  const [a, b] = [word(), word()]
  const ns = unique('ns')
  await putValue(s, ns, 'both', `${a} and ${b}`)
  await putValue(s, ns, 'one', `${a} only`)
  assert.equal(keysOf(expectStatus(await search(s, { q: `${a}   ${b}` }), 200)), ['both'])
  assert.equal(keysOf(expectStatus(await search(s, { q: `${a} OR ${b}` }), 200)), [])
})

test('search finds the text of values and names, not JSON keys or syntax', async ({ s }) => {
  const [ns, w, fieldName] = [unique('ns'), word(), word()]
  await putValue(s, ns, `key-${w}`, { [fieldName]: 'value text', n: 4242 })
  assert.equal(keysOf(expectStatus(await search(s, { q: fieldName }), 200)), [])
  assert.equal(keysOf(expectStatus(await search(s, { q: w, namespace: ns }), 200)), [`key-${w}`])
  assert.equal(keysOf(expectStatus(await search(s, { q: `${ns} value` }), 200)), [`key-${w}`])
  assert.equal(keysOf(expectStatus(await search(s, { q: `4242 ${ns}` }), 200)), [`key-${w}`])
})

test('a value of 900 KB of distinct words is stored and found by its words (PostgreSQL: those its index holds)', async ({ s }) => {
  const [ns, first, last] = [unique('ns'), word(), word()]
  // 130,000 distinct words: past what a PostgreSQL tsvector can hold (1 MiB), so PostgreSQL indexes the first.
  const words = Array.from({ length: 130_000 }, (_, i) => `k${i.toString(36).padStart(4, '0')}q`)
  const value = `${first} ${words.join(' ')} ${last}`
  assert.ok(value.length > 900_000, String(value.length))
  await putValue(s, ns, 'big', value)
  assert.equal(keysOf(expectStatus(await search(s, { q: first }), 200)), ['big'])
  assert.equal(keysOf(expectStatus(await search(s, { q: `${words[10]} ${words[11]}`, namespace: ns }), 200)), ['big'])
  assert.equal(keysOf(expectStatus(await search(s, { q: last }), 200)), TEST_DRIVER === 'postgres' ? [] : ['big'])
})

test('a value as large as the body limit allows is stored, however it tokenizes', async () => {
  const s = await startServer({ maxBodyBytes: 8 * 1024 * 1024 })
  try {
    const ns = unique('ns')
    const long = `${'é'.repeat(3_000_000)}` // one token of 6 MB
    const many = Array.from({ length: 700_000 }, (_, i) => i.toString(36)).join('.') // 700,000 tokens
    for (const [key, value] of [['long', long], ['many', many], ['mixed', { a: long.slice(0, 100_000), b: many.slice(0, 2_000_000) }]] as const) {
      await putValue(s, ns, key, value)
    }
    assert.equal(keysOf(expectStatus(await search(s, { q: 'zz', namespace: ns }), 200)).sort(), ['many', 'mixed'])
  } finally {
    await s.close()
  }
})

test('an upsert and a delete keep the index in step', async ({ s }) => {
  const [ns, old, fresh] = [unique('ns'), word(), word()]
  await putValue(s, ns, 'k', old)
  await putValue(s, ns, 'k', fresh)
  assert.equal(keysOf(expectStatus(await search(s, { q: old }), 200)), [])
  assert.equal(keysOf(expectStatus(await search(s, { q: fresh }), 200)), ['k'])
  expectStatus(await s.request('DELETE', `/store/${ns}/k`), 204)
  assert.equal(keysOf(expectStatus(await search(s, { q: fresh }), 200)), [])
  // FTS5's own check of the index against the entries (the PostgreSQL driver writes its vectors itself).
  if (s.driver === 'sqlite') await s.sql("INSERT INTO store_fts (store_fts, rank) VALUES ('integrity-check', 0)")
})

test('namespace is an exact filter', async ({ s }) => {
  const w = word()
  const [ns, other] = [unique('ns'), unique('ns')]
  await putValue(s, ns, 'a', w)
  await putValue(s, other, 'b', w)
  assert.equal(keysOf(expectStatus(await search(s, { q: w, namespace: other }), 200)), ['b'])
  assert.equal(keysOf(expectStatus(await search(s, { q: w, namespace: other.toUpperCase() }), 200)), [])
})

test('limit caps the hits; the default is 10', async ({ s }) => {
  const [ns, w] = [unique('ns'), word()]
  for (let i = 0; i < 12; i++) await putValue(s, ns, `k${i}`, w)
  assert.is(expectStatus(await search(s, { q: w }), 200).body.length, 10)
  assert.is(expectStatus(await search(s, { q: w, limit: '3' }), 200).body.length, 3)
})

test('filter_value is compared as JSON for numbers, booleans and null, else as text', async ({ s }) => {
  const [ns, w] = [unique('ns'), word()]
  await putValue(s, ns, 'num', { text: w, v: 5 })
  await putValue(s, ns, 'float', { text: w, v: 0.5 })
  await putValue(s, ns, 'str', { text: w, v: '5' })
  await putValue(s, ns, 'yes', { text: w, v: true })
  await putValue(s, ns, 'nil', { text: w, v: null })
  await putValue(s, ns, 'word', { text: w, v: 'open' })
  const hits = async (value: string) =>
    keysOf(expectStatus(await search(s, { q: w, filter_path: '$.v', filter_value: value }), 200)).sort()
  assert.equal(await hits('5'), ['num', 'str'])
  assert.equal(await hits('5.0'), ['num'])
  assert.equal(await hits('5e-1'), ['float'])
  assert.equal(await hits('true'), ['yes'])
  assert.equal(await hits('null'), ['nil'])
  assert.equal(await hits('open'), ['word'])
  assert.equal(await hits('1e999'), [])
  assert.equal(keysOf(expectStatus(await search(s, { q: w, filter_path: '$.v' }), 200)), [])
})

test('an invalid filter_path is 400 validation_failed', async ({ s }) => {
  for (const path of ['v', '$.', '$[', '$.a[x]', '', '$.a[-1]', '$."a\\"', 'abc']) {
    const res = expectError(await search(s, { q: 'x', filter_path: path, filter_value: '1' }), 400, 'validation_failed')
    assert.is(res.body.error.details[0].path, 'query.filter_path')
  }
})

test('a missing q is 400 missing_param; an empty or blank q is 400 invalid_query', async ({ s }) => {
  expectError(await s.request('GET', '/store/search'), 400, 'missing_param')
  expectError(await s.request('GET', '/store/search?namespace=x'), 400, 'missing_param')
  for (const q of ['', '+', '%20%09%0A%0D', '   ']) expectError(await s.request('GET', `/store/search?q=${q}`), 400, 'invalid_query')
})

test('a bad limit is 400 invalid_limit, checked after q', async ({ s }) => {
  for (const limit of ['0', '1001', '-5', 'ten']) expectError(await search(s, { q: 'x', limit }), 400, 'invalid_limit')
  expectError(await s.request('GET', '/store/search?limit=0'), 400, 'missing_param')
})

test('a q that is not valid UTF-8 once decoded is 400 validation_failed', async ({ s }) => {
  expectError(await s.request('GET', '/store/search?q=%FF'), 400, 'validation_failed')
})

test('FTS syntax in q is searched literally', async ({ s }) => {
  const [ns, w] = [unique('ns'), word()]
  await putValue(s, ns, 'k', `say "${w}" NEAR (it) OR not: *star*`)
  for (const q of [`"${w}"`, `${w}*`, `say:${w}`, `(${w})`, `${w} NEAR`, `${w} OR`, `NOT ${w}`, `^${w}`, `${w}\u0000`]) {
    assert.equal(keysOf(expectStatus(await search(s, { q }), 200)), ['k'], q)
  }
  for (const q of ['"', '""', '*', ':', '(', ')', 'NEAR(a b)', '-', '{text}:x', '\u0000']) expectStatus(await search(s, { q }), 200)
})

test('a q without a word matches nothing, with or without a namespace; a wordless term beside others is left out', async ({ s }) => {
  const [ns, w] = [unique('ns'), word()]
  await putValue(s, ns, 'k', `${w} here`)
  for (const q of ['-', '" *', '—', '\u0000']) {
    assert.equal(expectStatus(await search(s, { q }), 200).body, [], q)
    assert.equal(expectStatus(await search(s, { q, namespace: ns }), 200).body, [], q)
  }
  assert.equal(keysOf(expectStatus(await search(s, { q: `${w} -`, namespace: ns }), 200)), ['k'])
})

test('any q and namespace answer 200 or a 4xx, never a 500', async ({ s }) => {
  await putValue(s, unique('ns'), 'k', 'some text to match against')
  await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 5 }), async (q, ns) => {
    const res = await search(s, { q, namespace: ns })
    assert.ok(res.status === 200 || (res.status === 400 && res.body.error.code === 'invalid_query'), `${JSON.stringify(q)}: ${res.text}`)
  }), { numRuns: 300 })
})

test('a thousand terms are a literal search, not an error', async ({ s }) => {
  const q = Array.from({ length: 1000 }, (_, i) => `t${i}`).join(' ')
  assert.equal(expectStatus(await search(s, { q }), 200).body, [])
})

test('a namespace search ranks and highlights as the same search without namespace', async ({ s }) => {
  const [ns, w] = [unique('ns'), word()]
  await putValue(s, ns, 'k', { title: `${w} here`, body: 'and more words' })
  const [all] = expectStatus(await search(s, { q: w }), 200).body
  const [inNs] = expectStatus(await search(s, { q: w, namespace: ns }), 200).body
  assert.equal(inNs, all)
  assert.ok(inNs.snippet.includes(`**${w}**`), inNs.snippet)
})

test('a word in more entries than are ranked still finds the entries of a namespace that holds older ones', async ({ s }) => {
  const [w, old, busy] = [word(), unique('ns'), unique('ns')]
  await putValue(s, old, 'old', `${w} ${w} ${w}`)
  for (let i = 0; i < RANKED_CANDIDATES; i += 50) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => putValue(s, busy, `k${i + j}`, `${w} among other words`)))
  }
  assert.equal(keysOf(expectStatus(await search(s, { q: w, namespace: old }), 200)), ['old'])
  // Unfiltered, only the newest RANKED_CANDIDATES matches are ranked: the older, better entry is not among them.
  const all = expectStatus(await search(s, { q: w, limit: '1000' }), 200)
  assert.is(all.body.length, RANKED_CANDIDATES)
  assert.not.ok(keysOf(all).includes('old'))
})

test.run()
