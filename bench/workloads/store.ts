// The store (SPEC §10): put throughput over HTTP, then search latency over HTTP at 100k and 1M entries of
// 1–5 KB of Zipfian English-like text. Loading a million entries over HTTP would take most of an hour, so
// all but the HTTP puts are bulk-loaded in-process with better-sqlite3 into the server's own database file
// (same schema, same triggers, so the FTS index is built exactly as PUT builds it); searches go over HTTP.
import Database from 'better-sqlite3'
import { Pool } from 'undici'
import type { BenchContext, Workload, WorkloadResult } from '../lib/types.ts'
import { NAMESPACES, rng, textGen, type TextGen } from '../lib/store-text.ts'

const PUT_CONNECTIONS = 8
const LOAD_BATCH = 5_000

type Summary = { p50: number; p99: number; hits: number }

function summarize(ms: number[], hits: number): Summary {
  const sorted = [...ms].sort((a, b) => a - b)
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  return { p50: round(at(50)), p99: round(at(99)), hits: round(hits / ms.length) }
}

const round = (x: number) => Math.round(x * 100) / 100

async function measurePuts(pool: Pool, gen: TextGen, count: number): Promise<number> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: PUT_CONNECTIONS }, async () => {
    while (next < count) {
      const e = gen.entry(next++)
      const res = await pool.request({
        method: 'PUT',
        path: `/store/${e.namespace}/${e.key}`,
        body: JSON.stringify({ value: e.value }),
        headers: { 'content-type': 'application/json' },
      })
      await res.body.text()
      if (res.statusCode !== 204) throw new Error(`PUT answered ${res.statusCode}`)
    }
  }))
  return count / ((performance.now() - started) / 1000)
}

// better-sqlite3 12 on Node 24 can abort the process when the GC finalizes a Statement or Database
// (`Assertion failed: (env) != nullptr` in ~Statement; fixed by better-sqlite3 13). So the loader opens one
// connection, sets pragmas with exec (db.pragma() leaves a statement behind), and keeps it reachable.
const keepAlive: unknown[] = []

type Loader = { load(from: number, to: number): number; close(): void }

function openLoader(dbPath: string, gen: TextGen, log: (m: string) => void): Loader {
  const db = new Database(dbPath)
  db.exec('PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL')
  const insert = db.prepare('INSERT INTO store (namespace, key, value_json, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?)')
  const batch = db.transaction((a: number, b: number) => {
    for (let i = a; i < b; i++) {
      const e = gen.entry(i)
      insert.run(e.namespace, e.key, JSON.stringify(e.value), i, i)
    }
  })
  keepAlive.push(db, insert, batch)
  return {
    /** Inserts entries [from, to) through the store table (its triggers index them); returns rows/s. */
    load(from, to) {
      const started = performance.now()
      for (let i = from; i < to; i += LOAD_BATCH) {
        batch(i, Math.min(to, i + LOAD_BATCH))
        if ((i / LOAD_BATCH) % 20 === 0) log(`  loaded ${Math.min(to, i + LOAD_BATCH)} entries`)
      }
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
      return (to - from) / ((performance.now() - started) / 1000)
    },
    close: () => db.close(),
  }
}

type QueryClass = { name: string; query(): string }

/** Query shapes by how many entries a term hits: rank = position in the Zipf vocabulary (0 = "the"). */
function queryClasses(gen: TextGen, random: () => number): QueryClass[] {
  const word = (lo: number, hi: number) => gen.words[lo + Math.floor(random() * (hi - lo))]
  const q = (text: string, extra = '') => `/store/search?q=${encodeURIComponent(text)}${extra}`
  return [
    { name: 'rare', query: () => q(word(5000, 50_000)) },
    { name: 'mid', query: () => q(word(500, 5000)) },
    { name: 'common', query: () => q(word(50, 500)) },
    { name: 'two_terms', query: () => q(`${word(50, 500)} ${word(500, 5000)}`) },
    { name: 'namespace', query: () => q(word(50, 500), `&namespace=${NAMESPACES[Math.floor(random() * NAMESPACES.length)]}`) },
    { name: 'top50', query: () => q(word(0, 50)) },
  ]
}

async function measureSearch(pool: Pool, classes: QueryClass[], perClass: number): Promise<Record<string, Summary>> {
  const out: Record<string, Summary> = {}
  for (const c of classes) {
    const ms: number[] = []
    let hits = 0
    for (let i = 0; i < perClass + 20; i++) {
      const started = performance.now()
      const res = await pool.request({ method: 'GET', path: c.query() })
      const body = await res.body.text()
      const elapsed = performance.now() - started
      if (res.statusCode !== 200) throw new Error(`search answered ${res.statusCode}: ${body}`)
      if (i >= 20) { // the first 20 warm the server's page cache after the bulk load
        ms.push(elapsed)
        hits += (JSON.parse(body) as unknown[]).length
      }
    }
    out[c.name] = summarize(ms, hits)
  }
  return out
}

export async function runStore(ctx: BenchContext, sizes = ctx.quick ? [20_000] : [100_000, 1_000_000]): Promise<WorkloadResult> {
  const metrics: Record<string, number | string> = {}
  const gen = textGen(1)
  const docket = await ctx.startDocket()
  const pool = new Pool(docket.url, { connections: PUT_CONNECTIONS, keepAliveTimeout: 60_000 })
  const loader = openLoader(docket.dbPath, gen, ctx.log)
  try {
    const puts = ctx.quick ? 2_000 : 10_000
    metrics.put_per_s = Math.round(await measurePuts(pool, gen, puts))
    ctx.log(`store: ${puts} HTTP puts at ${metrics.put_per_s}/s`)
    let loaded = puts
    for (const size of sizes) {
      metrics[`bulk_load_rows_per_s_to_${size}`] = Math.round(loader.load(loaded, size))
      loaded = size
      const perClass = ctx.quick ? 50 : 300
      const results = await measureSearch(pool, queryClasses(gen, rng(size)), perClass)
      for (const [name, s] of Object.entries(results)) {
        metrics[`search_${name}_p50_ms_at_${size}`] = s.p50
        metrics[`search_${name}_p99_ms_at_${size}`] = s.p99
        metrics[`search_${name}_avg_hits_at_${size}`] = s.hits
      }
      ctx.log(`store: search at ${size}: ${JSON.stringify(results)}`)
    }
    metrics.peak_rss_mb = docket.peakRssMb()
  } finally {
    loader.close()
    await pool.close()
    await docket.stop()
  }
  return {
    metrics,
    notes: [
      `Puts over HTTP with ${PUT_CONNECTIONS} connections, one transaction each; the rest bulk-loaded in-process (same triggers).`,
      'Search latency: one connection, sequential requests, limit 10; classes by vocabulary rank (top50 = words like "the").',
    ],
  }
}

const workload: Workload = {
  name: 'store',
  description: 'Store put throughput over HTTP, and full-text search p50/p99 over HTTP at 100k and 1M entries',
  run: (ctx) => runStore(ctx),
}

export default workload
