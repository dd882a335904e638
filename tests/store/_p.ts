import { openPostgresDriver } from '../../src/store/postgres/driver.ts'
import { systemClock } from '../../src/clock.ts'
import { silentLog } from '../../src/log.ts'
import { textGen } from '../../bench/lib/store-text.ts'
import { valueSearchText } from '../../src/store/postgres/search-text.ts'
import { snippet } from '../../src/store/postgres/snippet.ts'
import pg from 'pg'
const url = 'postgres://docket@127.0.0.1:55432/exp'
const d = await openPostgresDriver({ url, poolSize: 2, clock: systemClock, log: silentLog })
const gen = textGen(1)
const pool = new pg.Pool({ connectionString: url, max: 1 })
for (const [label, w] of [['rare', gen.words[20000]], ['mid', gen.words[2000]], ['common', gen.words[200]], ['top', gen.words[10]]] as const) {
  const { rows: [c] } = await pool.query(`SELECT count(*) n FROM store WHERE search @@ $1::tsquery`, [`'${w}'`])
  const times: number[] = []
  let rows: any[] = []
  for (let i = 0; i < 30; i++) { const t = performance.now(); rows = await d.reads.search({ terms: [w], limit: 10 }); times.push(performance.now() - t) }
  times.sort((a, b) => a - b)
  let t = performance.now()
  for (let i = 0; i < 30; i++) for (const r of rows) snippet([r.namespace, r.key, valueSearchText(r.value_json)], [[w]])
  const js = (performance.now() - t) / 30
  console.log(label, w, 'matches', c.n, 'p50', times[15].toFixed(2), 'snippets(10)', js.toFixed(2))
}
await d.close(); await pool.end()
