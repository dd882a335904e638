// Store search latency on both drivers at N entries (default 100,000), in-process (driver.reads.search, no
// HTTP), with the query classes of bench/workloads/store.ts and its corpus, plus `phrase` (a word like "the"
// and a common word joined by `/`: a two-word phrase). SQLite is loaded as store.ts loads it; PostgreSQL
// with multi-row INSERTs of the rows the driver writes, on a fresh embedded cluster (shared_buffers 256MB)
// or on PGURL (loaded once: a store that has rows is measured as it is).
//   node bench/search-drivers.ts [N] [sqlite|postgres|both]      (PER=200 searches a class, LIMIT=10)
// ROOT=<another checkout> measures that checkout's code (how the numbers before a change were taken).
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
const ROOT = process.env.ROOT ?? new URL('..', import.meta.url).pathname.replace(/\/$/, '')
const N = Number(process.argv[2] ?? 100_000)
const which = process.argv[3] ?? 'both'
const PER = Number(process.env.PER ?? 200)
const { textGen, rng, NAMESPACES } = await import(`${ROOT}/bench/lib/store-text.ts`)
const { startCluster, TEST_SETTINGS } = await import(`${ROOT}/tests/helpers/postgres.ts`)
const { migrate } = await import(`${ROOT}/src/store/postgres/migrate.ts`)
const { openPostgresDriver } = await import(`${ROOT}/src/store/postgres/driver.ts`)
const { openDb, closeDb } = await import(`${ROOT}/src/store/sqlite/db.ts`)
const { createStore } = await import(`${ROOT}/src/store/sqlite/index.ts`)
const { createSqliteDriver } = await import(`${ROOT}/src/store/sqlite/driver.ts`)
const { ftsQuery, filterJson } = await import(`${ROOT}/src/domain/search.ts`)
const vectorPath = `${ROOT}/src/store/postgres/search-vector.ts`
const vec = existsSync(vectorPath) ? await import(vectorPath) : null
const pg = (await import(`${ROOT}/node_modules/pg/lib/index.js`)).default
const { systemClock } = await import(`${ROOT}/src/clock.ts`)
const { silentLog } = await import(`${ROOT}/src/log.ts`)

function classes(gen: any, random: () => number) {
  const word = (lo: number, hi: number) => gen.words[lo + Math.floor(random() * (hi - lo))]
  return [
    { name: 'rare', q: () => ({ q: word(5000, 50_000) }) },
    { name: 'mid', q: () => ({ q: word(500, 5000) }) },
    { name: 'common', q: () => ({ q: word(50, 500) }) },
    { name: 'two_terms', q: () => ({ q: `${word(50, 500)} ${word(500, 5000)}` }) },
    { name: 'namespace', q: () => ({ q: word(50, 500), namespace: NAMESPACES[Math.floor(random() * NAMESPACES.length)] }) },
    { name: 'top50', q: () => ({ q: word(0, 50) }) },
    { name: 'filtered', q: () => ({ q: word(50, 500), filter: { path: '$.status', text: 'open', json: filterJson('open') } }) },
    { name: 'phrase', q: () => ({ q: `${word(0, 50)}/${word(50, 500)}` }) },
  ]
}
const toSearch = (c: any) => { const terms = c.q.split(/[ \t\r\n]+/).filter((t: string) => t !== ''); let match; try { match = ftsQuery(c.q) } catch { match = ftsQuery(terms) } return { match, terms, namespace: c.namespace, filter: c.filter, limit: Number(process.env.LIMIT ?? 10) } }

async function measure(label: string, driver: any) {
  const out: Record<string, string> = {}
  for (const c of classes(textGen(1), rng(N))) {
    const ms: number[] = []
    let hits = 0
    for (let i = 0; i < 20 + PER; i++) {
      const s = toSearch(c.q())
      const t = performance.now()
      const r = await driver.reads.search(s)
      const e = performance.now() - t
      if (i >= 20) { ms.push(e); hits += r.length }
    }
    ms.sort((a, b) => a - b)
    out[c.name] = `p50 ${ms[Math.floor(ms.length / 2)].toFixed(2)} p99 ${ms[Math.floor(ms.length * 0.99)].toFixed(2)} hits ${(hits / ms.length).toFixed(1)}`
  }
  console.log(label, JSON.stringify(out, null, 1))
}

if (which !== 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'sb-'))
  const db = openDb(join(dir, 'd.db'))
  const store = createStore(db)
  const gen = textGen(1)
  const batch = db.transaction((a: number, b: number) => { for (let i = a; i < b; i++) { const e = gen.entry(i); store.kv.put(e.namespace, e.key, JSON.stringify(e.value), i) } })
  let t = performance.now()
  for (let i = 0; i < N; i += 5000) batch.immediate(i, Math.min(N, i + 5000))
  console.log(`sqlite load ${((performance.now() - t) / 1000).toFixed(1)} s`)
  closeDb(db)
  const db2 = openDb(join(dir, 'd.db'))
  const driver = createSqliteDriver(db2, { clock: systemClock, lockTimeoutMs: 5000 })
  await measure('sqlite', driver)
  closeDb(db2)
  rmSync(dir, { recursive: true, force: true })
}
if (which !== 'sqlite') {
  const cluster = process.env.PGURL ? null : await startCluster({ ...TEST_SETTINGS, shared_buffers: '256MB' })
  try {
    const url = process.env.PGURL ?? await cluster!.createDatabase()
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    await migrate(pool)
    const gen = textGen(1)
    let t = performance.now()
    const have = Number((await pool.query('SELECT count(*) AS n FROM store')).rows[0].n)
    for (let i = have > 0 ? N : 0; i < N; i += 500) {
      const rows: unknown[] = []
      const tuples: string[] = []
      for (let j = i; j < Math.min(N, i + 500); j++) {
        const e = gen.entry(j)
        const v = JSON.stringify(e.value)
        const base = rows.length
        if (vec) { rows.push(e.namespace, e.key, v, j, vec.searchVector(e.namespace, e.key, v) + (vec.recentVector ? ' ' + vec.recentVector(BigInt(j + 1)) : '')); tuples.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 4}, $${base + 5}::tsvector)`) }
        else { rows.push(e.namespace, e.key, v, j); tuples.push(`($${base + 1}, $${base + 2}, $${base + 3}, $${base + 4}, $${base + 4})`) }
      }
      await pool.query(`INSERT INTO store (namespace, key, value_json, created_at_ms, updated_at_ms${vec ? ', search' : ''}) VALUES ${tuples.join(',')}`, rows)
    }
    console.log(`postgres load ${((performance.now() - t) / 1000).toFixed(1)} s`)
    t = performance.now()
    await pool.query('VACUUM ANALYZE store')
    console.log(`vacuum analyze ${((performance.now() - t) / 1000).toFixed(1)} s`)
    const { rows: [size] } = await pool.query(`SELECT pg_size_pretty(pg_total_relation_size('store')) AS total, pg_size_pretty(pg_relation_size('store')) AS heap, pg_size_pretty(pg_relation_size('store_search')) AS gin`)
    console.log(size)
    await pool.end()
    const driver = await openPostgresDriver({ url, poolSize: 2, clock: systemClock, log: silentLog })
    await measure('postgres', driver)
    await driver.close()
  } finally {
    await cluster?.stop()
  }
}
