import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { openPostgresDriver } from '../../../src/store/postgres/driver.ts'
import { closeDb, openDb, type Db } from '../../../src/store/sqlite/db.ts'
import { createSqliteDriver } from '../../../src/store/sqlite/driver.ts'
import { createStore } from '../../../src/store/sqlite/index.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { copySqliteToPostgres } from '../../../src/store/copy.ts'
import type { Driver } from '../../../src/store/driver.ts'
import type { HitRow, Search } from '../../../src/store/types.ts'
import { filterJson, searchTerms } from '../../../src/domain/search.ts'
import { tokensOf } from '../../../src/domain/fts5-tokens.ts'
import { manualClock } from '../../../src/clock.ts'
import { silentLog } from '../../../src/log.ts'

// The same entries stored on both drivers; the same searches must find the same keys on both (README: Store,
// What search matches), with the same snippets (FTS5's snippet(), ported for PostgreSQL). Ranks differ
// (bm25 against ts_rank), so keys are compared as sets, with a limit above the number of entries.
type Ctx = { dir: string; db: Db; sqlite: Driver; pg: Driver }
const test = suite<Ctx>('postgres search: the entries and snippets SQLite gives', {} as Ctx)

test.before(async (ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'docket-search-parity-'))
  ctx.db = openDb(join(ctx.dir, 'docket.db'))
  const clock = manualClock(1_700_000_000_000)
  ctx.sqlite = createSqliteDriver(ctx.db, { clock, lockTimeoutMs: 5_000 })
  ctx.pg = await openPostgresDriver({ url: await migratedDatabase(), poolSize: 4, clock, log: silentLog })
})
test.after(async (ctx) => {
  await ctx.pg.close()
  closeDb(ctx.db)
  rmSync(ctx.dir, { recursive: true, force: true })
})

const noKey = { key: null, requestHash: Buffer.alloc(0), answer: () => ({ status: 204, body: null }) }

async function put(ctx: Ctx, ns: string, key: string, value: unknown): Promise<void> {
  for (const d of [ctx.sqlite, ctx.pg]) await d.write((c) => c.putEntry(ns, key, JSON.stringify(value), 1), noKey)
}

const byKey = (hits: HitRow[]) => Object.fromEntries(hits.map((h) => [`${h.namespace}/${h.key}`, h.snippet]))

/** Both drivers' answers to `q`, as {"ns/key": snippet}; fails unless they are equal. */
async function same(ctx: Ctx, q: string, extra: Partial<Search> = {}): Promise<Record<string, string>> {
  const terms = searchTerms(q)
  // The route answers [] itself when no term has a word (SQLite would match every entry of a namespace).
  if (terms === null || !terms.some((t) => tokensOf(t).length > 0)) return {}
  const search: Search = { terms, limit: 1000, ...extra }
  const [a, b] = [byKey(await ctx.sqlite.reads.search(search)), byKey(await ctx.pg.reads.search(search))]
  // With a limit below the results, the ranks decide which: only the count can be compared.
  if (search.limit < 1000) {
    assert.is(Object.keys(b).length, Object.keys(a).length, `count for ${JSON.stringify(q)} ${JSON.stringify(extra)}`)
    return a
  }
  assert.equal(Object.keys(b).sort(), Object.keys(a).sort(), `keys for ${JSON.stringify(q)} ${JSON.stringify(extra)}`)
  assert.equal(b, a, `snippets for ${JSON.stringify(q)}`)
  return a
}

const LONG = `${'x'.repeat(1200)}y`
const HUGE = `${'é'.repeat(20_000)}z` // 40,001 bytes: past FTS5's 32,768-byte cut

const CORPUS: Array<[string, string, unknown]> = [
  ['decisions', 'deploy/payments', { title: 'Deploy payments on Friday', body: 'Roll out after the freeze; billing waits.', status: 'accepted', priority: 2 }],
  ['people', 'ana', { email: 'ana.lópez@example.com', site: 'https://docs.example.org/a/b?c=d&e=f#frag', host: 'db-01.internal:5432' }],
  ['numbers', 'n', { list: [-2, 1.5, 0.30000000000000004, 1e21, 1e-7, 100000000000000000000, 9007199254740993, 12345678901234567890, 0, -0.5] }],
  ['versions', 'v1.2.3', { note: 'upgrade to v1.2.3 from v1.2.2-rc.1 (semver 2.0.0); python3.12 and node24' }],
  ['hyphens', 'e-mail', { text: 'state-of-the-art re-run well-known e-mail co-operate — en–dash' }],
  ['accents', 'café', { text: 'Café crème, naïve résumé, mañana, Straße, ÅNGSTRÖM, Ørsted, Łódź, Ἀθῆναι, ΣΊΣΥΦΟΣ σίσυφος, Москва ЁЛКА ёлка' }],
  ['accents', 'combining', { text: 'cafe\u0301 cre\u0300me n\u0303 A\u030a' }],
  ['cjk', 'zh', { text: '数据库服务器 東京タワー 서울특별시 日本語のテキスト' }],
  ['emoji', 'e', { text: 'ship it 🚀🚀 now 👍🏽 done ✅ family 👨‍👩‍👧 flag 🇫🇷 x²+y² ½ ① ﬁle ＡＢＣ ｱｲｳ' }],
  ['nul\u0000space', 'key\u0000with nul', { text: 'before\u0000after a\u0001b', 'k\u0000': ['x\u0000y'] }],
  ['scripts', 'mixed', { text: 'हिन्दी नमस्ते العربية مرحبا עברית שלום ไทย สวัสดี \ue000\ue001 private \ud83d lone \udfff surrogates \ufffe\uffff' }],
  ['long', 'tokens', { a: LONG, b: `${LONG} tail`, c: HUGE, d: `${'é'.repeat(20_000)}q` }],
  ['phrases', 'p', ['alpha beta', 'gamma', 'delta. Epsilon: zeta', 'the the the cat the dog']],
  ['field', 'edge', { text: 'start of value' }],
  ['types', 't', { t: true, f: false, n: null, o: {}, a: [], nested: { deep: [{ deeper: 'bottom word' }] }, s: 'open' }],
  ['status', 'open1', { status: 'open', text: 'common words here' }],
  ['status', 'open2', { status: 'open now', text: 'common words here' }],
  ['status', 'num', { status: 5, text: 'common words here' }],
  ['status', 'big', { status: 1e21, text: 'common words here' }],
]

const QUERIES = [
  'payments', 'deploy/payments', 'deploy payments', 'payments deploy', 'decisions deploy', 'Payments', 'PAYMENTS', 'freeze;',
  'ana.lópez@example.com', 'lopez', 'example', 'example.com', 'https', 'docs.example.org/a', 'c=d', 'frag', 'db-01', '5432', 'internal:5432',
  '-2', '2', '1.5', '1', '5', '0.30000000000000004', '30000000000000004', '3', '1e21', '1.0e+21', '0e', '21', '07', '1e-7',
  '100000000000000000000', '1.0e+20', '9007199254740992', '9007199254740993', '12345678901234567890', '1.2345678901234567e+19',
  'v1.2.3', 'v1', '1.2.3', '2.0.0', 'rc.1', 'python3', 'python3.12', 'node24', 'semver',
  'state-of-the-art', 'state', 'art', 'the', 'rerun', 're-run', 'e-mail', 'email', 'co-operate', 'en–dash', '—',
  'cafe', 'café', 'CAFÉ', 'creme', 'naive', 'resume', 'manana', 'strasse', 'straße', 'STRASSE', 'angstrom', 'ångström', 'orsted', 'ørsted',
  'lodz', 'łódź', 'αθηναι', 'ἀθῆναι', 'σισυφος', 'ΣΙΣΥΦΟΣ', 'σίσυφος', 'москва', 'МОСКВА', 'елка', 'ёлка', 'ЁЛКА',
  'n', 'a', 'cafe\u0301', 'é', 'e\u0301',
  '数据库服务器', '数据库', '東京タワー', '서울특별시', '日本語のテキスト', 'テキスト',
  '🚀', 'ship', 'it', 'now', 'ship🚀it', 'x', 'x²', 'y²', '½', '①', 'ﬁle', 'file', 'fi', 'ＡＢＣ', 'abc', 'ａｂｃ', 'ｱｲｳ',
  'before', 'after', 'before\u0000after', 'nul', 'space', 'with', 'key', '\u0000', 'a\u0001b', 'b', 'y',
  'हिन्दी', 'नमस्ते', 'العربية', 'שלום', 'ไทย', 'สวัสดี', '\ue000', '\ue000\ue001', 'private', 'lone', 'surrogates',
  LONG, `${'x'.repeat(1200)}`, 'tail', `${LONG} tail`, HUGE, `${'é'.repeat(20_000)}q`, `${'e'.repeat(16_384)}`, `${'é'.repeat(16_384)}`,
  'alpha beta', '"alpha beta"', 'beta gamma', 'gamma delta', 'zeta', 'epsilon', 'the cat', 'cat the', 'the the', 'the the the the',
  'edge start', 'field edge', 'value', 'of value', 'bottom', 'word', 'deeper', 'deep', 'true', 'null', 'open', 'common words',
  '-', '"', '*', 'OR', 'payments -', 'payments OR', '(payments)', 'payments*', 'NEAR(payments', '^payments',
]

test('every query finds the same entries, with the same snippets, on both drivers', async (ctx) => {
  for (const [ns, key, value] of CORPUS) await put(ctx, ns, key, value)
  for (const q of QUERIES) await same(ctx, q)
  // A namespace narrows, the snippet stays.
  for (const q of ['payments', 'common', 'the', 'x']) for (const ns of ['decisions', 'status', 'phrases', 'nope']) await same(ctx, q, { namespace: ns })
  // Spot checks that the corpus says what it should (FTS5's tokens, not PostgreSQL's parser's).
  assert.equal(Object.keys(await same(ctx, 'payments')), ['decisions/deploy/payments'])
  assert.ok(Object.keys(await same(ctx, 'lopez')).includes('people/ana'))
  assert.ok(Object.keys(await same(ctx, 'strasse')).length === 0)
  assert.ok(Object.keys(await same(ctx, '0e')).includes('numbers/n'))
})

test('filters narrow the same way on both drivers', async (ctx) => {
  for (const value of ['open', 'open now', '5', '5.0', '1e21', '1e+21', '1.0e+21', 'now', '{}', 'true', 'null', '']) {
    await same(ctx, 'common words', { filter: { path: '$.status', text: value, json: filterJson(value) } })
  }
  await same(ctx, 'bottom', { filter: { path: '$.nested.deep[0].deeper', text: 'bottom word', json: null } })
  for (const [path, value] of [['$.nested.deep', '[{"deeper":"bottom word"}]'], ['$.nested', '{"deep":[{"deeper":"bottom word"}]}'], ['$.o', '{}'],
    ['$.a', '[]'], ['$.t', 'true'], ['$.f', 'false'], ['$.n', 'null'], ['$.s', 'open'], ['$.nested.deep[#-1].deeper', 'bottom word'], ['$.nested[0]', 'x']]) {
    await same(ctx, 'bottom', { filter: { path, text: value, json: filterJson(value) } })
  }
  for (const [path, value] of [['$.list[0]', '-2'], ['$.list[0]', '-2.0'], ['$.list[3]', '1e21'], ['$.list[3]', '1000000000000000000000'],
    ['$.list[2]', '0.30000000000000004'], ['$.list[2]', '0.3'], ['$.list[#-1]', '-0.5'], ['$.list[5]', '100000000000000000000'], ['$.list[6]', '9007199254740993']]) {
    await same(ctx, '0e', { filter: { path, text: value, json: filterJson(value) } })
  }
  const found = async (q: string, path: string, value: string) => Object.keys(await same(ctx, q, { filter: { path, text: value, json: filterJson(value) } }))
  assert.equal(await found('0e', '$.list[3]', '1000000000000000000000'), ['numbers/n'])
  assert.equal(await found('0e', '$.list[#-1]', '-0.5'), ['numbers/n'])
  assert.equal(await found('bottom', '$.nested', '{"deep":[{"deeper":"bottom word"}]}'), ['types/t'])
  assert.equal(await found('bottom', '$.t', 'true'), ['types/t'])
  assert.equal(await found('bottom', '$.nested[0]', 'x'), [])
  await same(ctx, 'before', { filter: { path: '$.text', text: 'before\u0000after a\u0001b', json: null } })
})

test('an upsert re-indexes, a delete removes, on both drivers', async (ctx) => {
  await put(ctx, 'moving', 'k', 'first version')
  await put(ctx, 'moving', 'k', 'second version')
  assert.equal(await same(ctx, 'first'), {})
  assert.equal(Object.keys(await same(ctx, 'second')), ['moving/k'])
  for (const d of [ctx.sqlite, ctx.pg]) await d.write((c) => c.deleteEntry('moving', 'k'), noKey)
  assert.equal(await same(ctx, 'second'), {})
})

test('at 8,000 entries (copied by the migrate command, then ANALYZEd), common words find the same newest entries', async (ctx) => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-search-bulk-'))
  const db = openDb(join(dir, 'docket.db'))
  const url = await migratedDatabase()
  const pool = createPool(url, { size: 1 })
  const sqlite = createSqliteDriver(db, { clock: manualClock(1), lockTimeoutMs: 5_000 })
  let pg: Driver | undefined
  try {
    const kv = createStore(db).kv
    db.transaction(() => {
      for (let i = 0; i < 8_000; i++) {
        const words = ['common', i % 2 ? 'half' : 'other', i % 10 ? 'many' : 'tenth', i % 1_600 ? '' : 'rare'].join(' ')
        kv.put(`n${i % 4}`, `k${i}`, JSON.stringify({ text: `${words} ${i}`, status: ['open', 'done', 'draft', 'new'][i % 4 === 0 ? 0 : (i >> 2) % 4] }), i)
      }
    })()
    await copySqliteToPostgres(db, pool)
    await pool.query('ANALYZE store')
    pg = await openPostgresDriver({ url, poolSize: 2, clock: manualClock(1), log: silentLog })
    const both = { ...ctx, sqlite, pg }
    // 'common' looks among the newest 3,000 first (so does a filter of its own word, which no entry passes:
    // finding nothing there, it looks again among all).
    for (const q of ['common', 'half', 'tenth', 'rare', 'common tenth', 'half many', 'common/half', 'common/many', 'other common', '7']) {
      await same(both, q)
      await same(both, q, { namespace: 'n1' })
      await same(both, q, { filter: { path: '$.status', text: 'open', json: null } })
      await same(both, q, { limit: 10, namespace: 'n3', filter: { path: '$.status', text: 'new', json: null } })
    }
    await same(both, 'common', { filter: { path: '$.text', text: 'common', json: null } })
  } finally {
    await pg?.close()
    await pool.end()
    closeDb(db)
    rmSync(dir, { recursive: true, force: true })
  }
})

// Random text over characters that tokenize in every way (letters of several scripts, case, diacritics
// precomposed and combining, digits, punctuation, white space, emoji, NUL); queries are pieces of the texts.
const ALPHABET = ['a', 'b', 'A', 'é', 'É', 'e\u0301', 'ß', 'σ', 'Σ', 'ж', '数', '1', '2', '.', '-', '/', '@', ' ', ' ', '\n', '\u0000', '🚀', 'ﬁ', '²', '\u0301']
const text = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 24 }).map((a) => a.join(''))

test('random texts and pieces of them find the same entries on both drivers', async (ctx) => {
  const texts = fc.sample(text, { numRuns: 60, seed: 14 })
  for (const [i, t] of texts.entries()) await put(ctx, 'random', `r${i}`, { t, n: i % 3 === 0 ? t.length : `${t} ${i}` })
  const pieces = fc.sample(fc.tuple(fc.nat({ max: texts.length - 1 }), fc.nat({ max: 24 }), fc.nat({ max: 12 })), { numRuns: 150, seed: 41 })
  for (const [i, from, length] of pieces) await same(ctx, texts[i].slice(from, from + length), { namespace: 'random' })
})

test.run()
