// This SQLite is built with STAT4: a SELECT whose plan could depend on a bound value (a comparison on an
// indexed column, or a LIMIT, with an ORDER BY an index may satisfy) is re-prepared on every execution.
// The stores write such values as `+@name` / `+?`, which keeps the plan and prepares once (src/store/sqlite/db.ts).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync } from 'node:fs'

const test = suite('store SQL')
const dir = new URL('../../src/store/sqlite/', import.meta.url)

/** Every SQL string literal ('…', "…" or `…`) of a store module that orders or limits a SELECT. */
function orderedSelects(source: string): string[] {
  const literals = source.match(/`[^`]*`|'[^'\n]*'/g) ?? []
  return literals.filter((sql) => /\bSELECT\b/.test(sql) && /\b(ORDER BY|LIMIT)\b/.test(sql))
}

test('ordered or limited SELECTs never compare against a bare bound parameter', () => {
  const offenders: string[] = []
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    for (const sql of orderedSelects(readFileSync(new URL(file, dir), 'utf8'))) {
      const bare = sql.match(/(?:[=<>]|\bLIMIT)\s*(?:@\w+|\?)/g)
      if (bare) offenders.push(`${file}: ${bare.join(', ')} in ${sql.replace(/\s+/g, ' ').slice(0, 100)}`)
    }
  }
  assert.equal(offenders, [])
})

test.run()
