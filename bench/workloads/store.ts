// The store (SPEC §10): put throughput over HTTP, then search latency over HTTP at 100k and 1M entries of
// 1–5 KB of Zipfian English-like text. Loading a million entries over HTTP would take most of an hour, so
// all but the HTTP puts are bulk-loaded in-process into the server's own database file with Docket's own
// store (same statement, same triggers, so the FTS index is built exactly as PUT builds it); searches go
// over HTTP.
import { statfsSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { closeDb, openDb } from '../../src/store/sqlite/db.ts'
import { createStore } from '../../src/store/sqlite/index.ts'
import type { Workload } from '../lib/types.ts'
import { createClient, type Client } from '../lib/client.ts'
import { NAMESPACES, rng, textGen, type TextGen } from '../lib/store-text.ts'
import { round, summarize } from '../lib/stats.ts'

const PUT_CONNECTIONS = 8
const LOAD_BATCH = 5_000
const SEARCH_WARMUP = 20
// Every phase is bounded in time as well as in count. The 1M load is the long one: ≈ 5.5 GB with its FTS
// indexes (≈ 5.8 KB per entry), ≈ 13 min at the ≈ 1,300 rows/s of the 2-core machine (each entry is indexed
// twice: the whole index and the recent window, schema.sql migration 4). If it has not
// finished by `loadDeadlineMs`, the load stops and search is measured over the entries loaded so far (the
// `_entries` metric says how many, a note says why).
const FULL = { puts: 10_000, sizes: [100_000, 1_000_000], perClass: 300, loadDeadlineMs: 25 * 60_000 }
const QUICK = { puts: 1_000, sizes: [5_000, 20_000], perClass: 50, loadDeadlineMs: 60_000 }
const PUT_DEADLINE_MS = 60_000
// Per query class and size: top50 ranks every entry holding a word like "the", which grows with the entries.
const CLASS_DEADLINE_MS = 20_000
// What one entry takes on disk with its share of the FTS index and the WAL, generously: the run skips a size
// the temp directory has no room for rather than filling the disk.
const BYTES_PER_ENTRY = 8_000

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1000}k`)

/** PUTs of entries [0, count) on PUT_CONNECTIONS connections; returns how many were done and in how long. */
async function measurePuts(client: Client, gen: TextGen, count: number): Promise<{ puts: number; seconds: number }> {
  let next = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: PUT_CONNECTIONS }, async () => {
    while (next < count && performance.now() - started < PUT_DEADLINE_MS) {
      const e = gen.entry(next++)
      await client.call('PUT', `/store/${e.namespace}/${e.key}`, { value: e.value }, [204])
    }
  }))
  return { puts: next, seconds: (performance.now() - started) / 1000 }
}

/**
 * Inserts entries [from, to) into `dbPath` (which the running server also has open; WAL lets both in) in
 * transactions of LOAD_BATCH, until `deadline`; returns the entries the file then holds and the rows/s.
 */
function load(dbPath: string, gen: TextGen, from: number, to: number, deadline: number, log: (m: string) => void): { loaded: number; rowsPerS: number } {
  const db = openDb(dbPath)
  try {
    const store = createStore(db)
    const batch = db.transaction((a: number, b: number) => {
      for (let i = a; i < b; i++) {
        const e = gen.entry(i)
        store.kv.put(e.namespace, e.key, JSON.stringify(e.value), i)
      }
    })
    const started = performance.now()
    let at = from
    while (at < to && performance.now() < deadline) {
      const end = Math.min(to, at + LOAD_BATCH)
      batch.immediate(at, end)
      at = end
      if (((at - from) / LOAD_BATCH) % 20 === 0) log(`  loaded ${at} entries`)
    }
    return { loaded: at, rowsPerS: (at - from) / ((performance.now() - started) / 1000) }
  } finally {
    closeDb(db) // checkpoints the WAL, so the searches read the main file
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
    { name: 'filtered', query: () => q(word(50, 500), `&filter_path=${encodeURIComponent('$.status')}&filter_value=open`) },
  ]
}

/**
 * Each class in turn, one request at a time: SEARCH_WARMUP unmeasured (page cache after the load), then
 * `perClass`, or fewer if CLASS_DEADLINE_MS passes first (`short` names those classes).
 */
async function measureSearch(client: Client, classes: QueryClass[], perClass: number): Promise<{ metrics: Record<string, number>; short: string[] }> {
  const metrics: Record<string, number> = {}
  const short: string[] = []
  for (const c of classes) {
    const ms: number[] = []
    let hits = 0
    const deadline = performance.now() + CLASS_DEADLINE_MS
    for (let i = 0; i < SEARCH_WARMUP + perClass && performance.now() < deadline; i++) {
      const started = performance.now()
      const res = await client.call('GET', c.query(), undefined, [200])
      const elapsed = performance.now() - started
      if (i < SEARCH_WARMUP) continue
      ms.push(elapsed)
      hits += (res.body as unknown[]).length
    }
    const s = summarize(ms)
    metrics[`${c.name}_p50_ms`] = round(s.p50)
    metrics[`${c.name}_p99_ms`] = round(s.p99)
    metrics[`${c.name}_avg_hits`] = round(hits / ms.length)
    if (ms.length < perClass) short.push(`${c.name} (${ms.length})`)
  }
  return { metrics, short }
}

const workload: Workload = {
  name: 'store',
  description: 'store put throughput over HTTP, and full-text search p50/p99 over HTTP at 100k and 1M entries',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const metrics: Record<string, number | string> = {}
    const notes: string[] = []
    const gen = textGen(1)
    const docket = await ctx.startDocket()
    const client = createClient(docket.url, PUT_CONNECTIONS)
    try {
      const put = await measurePuts(client, gen, size.puts)
      metrics.puts = put.puts
      metrics.put_per_s = round(put.puts / put.seconds)
      ctx.log(`${put.puts} HTTP puts at ${metrics.put_per_s}/s`)
      const loadDeadline = performance.now() + size.loadDeadlineMs
      let loaded = put.puts
      for (const target of size.sizes) {
        const fs = statfsSync(tmpdir())
        const free = fs.bavail * fs.bsize
        if ((target - loaded) * BYTES_PER_ENTRY > free) {
          notes.push(`${label(target)}: skipped, ${round(free / 2 ** 30)} GiB free in ${tmpdir()} is less than the ≈ ${round(((target - loaded) * BYTES_PER_ENTRY) / 2 ** 30)} GiB it needs.`)
          break
        }
        const l = load(docket.dbPath, gen, loaded, target, loadDeadline, ctx.log)
        loaded = l.loaded
        const p = `at${label(target)}_`
        metrics[`${p}entries`] = loaded
        metrics[`${p}load_rows_per_s`] = round(l.rowsPerS)
        metrics[`${p}db_mb`] = round(statSync(docket.dbPath).size / 2 ** 20)
        if (loaded < target) notes.push(`${label(target)}: the load stopped at its ${size.loadDeadlineMs / 60_000} min deadline with ${loaded} entries.`)
        const search = await measureSearch(client, queryClasses(gen, rng(target)), size.perClass)
        for (const [k, v] of Object.entries(search.metrics)) metrics[`${p}${k}`] = v
        if (search.short.length > 0) notes.push(`${label(target)}: the ${CLASS_DEADLINE_MS / 1000} s per-class deadline cut short ${search.short.join(', ')} measured searches.`)
        ctx.log(`search at ${loaded} entries: ${JSON.stringify(search.metrics)}`)
        if (loaded < target) break
      }
      metrics.peak_rss_mb = round(docket.peakRssMb())
    } finally {
      await client.close()
      await docket.stop()
    }
    notes.unshift(
      `Puts over HTTP with ${PUT_CONNECTIONS} connections, one transaction each; the rest bulk-loaded in-process with Docket's own store (same triggers), ${LOAD_BATCH} per transaction.`,
      `Search latency: one connection, sequential requests, limit 10, ${SEARCH_WARMUP} unmeasured then ${size.perClass} per class; classes by vocabulary rank (top50 = words like "the").`,
    )
    return { metrics, notes }
  },
}

export default workload
