import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Database from 'better-sqlite3'
import { forEachToken, tokensOf } from '../../src/domain/fts5-tokens.ts'

const test = suite('FTS5 tokens in JavaScript')

// src/domain/fts5-tokens.ts is FTS5's `unicode61 remove_diacritics 2` in JavaScript (PostgreSQL indexes by
// it): it must give the tokens the bundled SQLite's FTS5 gives, for every code point, at the start of a token
// and inside one. fts5vocab lists FTS5's tokens of each document with their positions.
function fts5Tokens(docs: string[]): string[][] {
  const db = new Database(':memory:')
  try {
    db.exec(`CREATE VIRTUAL TABLE t USING fts5(x, tokenize = 'unicode61 remove_diacritics 2');
      CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)`)
    const insert = db.prepare('INSERT INTO t (rowid, x) VALUES (?, ?)')
    db.transaction(() => docs.forEach((d, i) => insert.run(i + 1, d)))()
    const out: string[][] = docs.map(() => [])
    for (const r of db.prepare('SELECT doc, offset, term FROM v').iterate() as Iterable<{ doc: number; offset: number; term: string }>) {
      out[r.doc - 1][r.offset] = r.term
    }
    return out
  } finally {
    db.close()
  }
}

function assertSame(docs: string[]): void {
  const expected = fts5Tokens(docs)
  docs.forEach((doc, i) => {
    const mine = tokensOf(doc)
    if (mine.length === expected[i].length && mine.every((t, j) => t === expected[i][j])) return
    const j = mine.findIndex((t, k) => t !== expected[i][k])
    assert.unreachable(`document ${i} differs at token ${j}: ${JSON.stringify(mine.slice(j, j + 3))} here, ${JSON.stringify(expected[i].slice(j, j + 3))} in FTS5`)
  })
}

test('every code point, alone and inside a token, tokenizes as FTS5 does', () => {
  const docs: string[] = []
  for (let base = 0; base < 0x110000; base += 4096) {
    let doc = ''
    for (let cp = base; cp < base + 4096; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue
      const ch = String.fromCodePoint(cp)
      doc += `x${ch}x ${ch} `
    }
    docs.push(doc)
  }
  assertSame(docs)
})

test('combining marks, lone surrogates, NUL, and what the README promises', () => {
  assertSame(['cafe\u0301 e\u0301\u0302\u0303x \u0301a a\u0301\u0301b', 'x\ud800y \udc00 z\ud83d', 'a\u0000b', 'deploy/payments ana@example.com v1.2.3 -2 1.5 état-major'])
  assert.equal(tokensOf('deploy/payments ana.lópez@example.com v1.2.3 -2 1.5 Straße ÅNGSTRÖM'),
    ['deploy', 'payments', 'ana', 'lopez', 'example', 'com', 'v1', '2', '3', '2', '1', '5', 'straße', 'angstrom'])
})

test('offsets point at each token in the text', () => {
  const text = ' Héllo, wörld🚀 数据 '
  const seen: string[] = []
  forEachToken(text, (token, start, end) => seen.push(`${token}=${text.slice(start, end)}`))
  assert.equal(seen, ['hello=Héllo', 'world=wörld', '数据=数据'])
})

test.run()
