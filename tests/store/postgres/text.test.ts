import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import type pg from 'pg'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { decodeText, encodeText } from '../../../src/store/postgres/text.ts'
import { searchVector } from '../../../src/store/postgres/search-vector.ts'
import { valueSearchText } from '../../../src/store/postgres/search-text.ts'

type Ctx = { pool: pg.Pool }
const test = suite<Ctx>('postgres text (U+0000)', {} as Ctx)

// Strings dense in the two characters the encoding touches, and in what sorts around them.
const nasty = fc.string({ unit: fc.constantFrom('\0', '\u0001', '\u0002', 'a', 'é', '\u{1F600}', '\\', '"'), maxLength: 12 })
const anyString = fc.oneof(nasty, fc.string({ unit: 'binary', maxLength: 20 }))
const byteOrder = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b)))

test.before(async (ctx) => {
  ctx.pool = createPool(await migratedDatabase(), { size: 2 })
  await ctx.pool.query('CREATE TABLE strings (s text COLLATE "C" PRIMARY KEY)')
})
test.after(async (ctx) => {
  await ctx.pool.end()
})

test('encoding is reversed exactly, holds no U+0000, and keeps byte order', () => {
  fc.assert(fc.property(anyString, anyString, (a, b) => {
    assert.is(decodeText(encodeText(a)), a)
    assert.not.ok(encodeText(a).includes('\0'))
    assert.is(byteOrder(encodeText(a), encodeText(b)), byteOrder(a, b))
  }), { numRuns: 2000 })
})

test('JSON.stringify output is never changed by the encoding', () => {
  fc.assert(fc.property(fc.jsonValue(), anyString, (v, s) => {
    const json = JSON.stringify({ v, s })
    assert.is(encodeText(json), json)
  }))
})

test('strings with U+0000 go through PostgreSQL unchanged, distinct under UNIQUE, in byte order', async ({ pool }) => {
  const strings = [...new Set(fc.sample(nasty, { numRuns: 300, seed: 14 }))]
  await pool.query('INSERT INTO strings SELECT unnest($1::text[])', [strings])
  const { rows } = await pool.query<{ s: string }>('SELECT s FROM strings ORDER BY s')
  assert.equal(rows.map((r) => r.s), [...strings].sort(byteOrder))
  const one = strings.find((s) => s.includes('\0'))!
  const { rows: found } = await pool.query('SELECT s FROM strings WHERE s = $1', [one])
  assert.equal(found, [{ s: one }])
})

test('docket_json reads values holding \\u0000 and \\u0001; what it returns compares with bound strings', async ({ pool }) => {
  const value = { 'k\u0000': 'a\u0000b', k1: '\u0001\u0002', list: ['\\u0000 is text', 'x\u0000'] }
  const json = JSON.stringify(value)
  // Paths are bound as text[]: their strings are encoded like every other (SQL text itself cannot hold U+0000).
  const { rows: [r] } = await pool.query(`SELECT docket_json($1) #>> $3 AS nul, docket_json($1) #>> '{k1}' AS one,
    docket_json($1) #>> '{list,0}' AS escaped, docket_json($1) #>> '{list,-1}' AS last, docket_json($1) #>> $3 = $2 AS equal,
    docket_json($4)::text = $4 AS unchanged`, [json, 'a\u0000b', ['k\u0000'], JSON.stringify(value.list.slice(0, 1))])
  assert.equal(r, { nul: 'a\u0000b', one: '\u0001\u0002', escaped: '\\u0000 is text', last: 'x\u0000', equal: true, unchanged: true })
})

test('the store vector holds FTS5 tokens of the namespace, key and value text, fields two positions apart', async ({ pool }) => {
  const value = JSON.stringify({ b: 'Hello wörld', title: ['x\u0000y', 1.5, true, null, { deep: -2 }], key: 'k' })
  assert.is(valueSearchText(value), 'Hello wörld\nx\u0000y\n1.5\n-2\nk')
  await pool.query(`INSERT INTO store (namespace, key, value_json, created_at_ms, updated_at_ms, search) VALUES ('ns one', $2, $1, 1, 1, $3)`,
    [value, 'the\u0000key', searchVector('ns one', 'the\u0000key', value)])
  const { rows: [r] } = await pool.query(`SELECT search::text AS search, value_json, key FROM store`)
  assert.is(r.value_json, value)
  assert.is(r.key, 'the\u0000key')
  // The namespace's lexeme (no position); positions: namespace 1-2, key 4-5 (U+0000 split it), value from 7 on. `-2` and `1.5` split on their
  // punctuation and `wörld` loses its diaeresis, as in FTS5's unicode61.
  assert.is(r.search, "'#n903438b0f175d07f' '1':11 '2':13 '5':12 'hello':7 'k':14 'key':5 'ns':1 'one':2 'the':4 'world':8 'x':9 'y':10")
})

test.run()
