import type { Db } from './db.ts'
import type { EntryRow, HitRow, Search } from '../types.ts'
import { ftsQuery, RANKED_CANDIDATES } from '../../domain/search.ts'

export type KvStore = ReturnType<typeof createKvStore>

const ENTRY = 's.namespace, s.key, s.value_json, s.created_at_ms, s.updated_at_ms'
// Highlights read as Markdown bold in an agent's context; 24 tokens is about one sentence around the match.
const SNIPPET = `snippet(store_fts, -1, '**', '**', '…', 24)`
// A search ranks (bm25) at most the RANKED_CANDIDATES most recent (highest id) results (domain/search.ts),
// except a filtered search the recent window cannot fill (search() below).

type Shape = 'none' | 'text' | 'json'
/** A filter's condition on the entry row `s`: as text, or (when filter_value is a JSON scalar) also as JSON. */
const FILTER: Record<Shape, string> = {
  none: '',
  text: 'AND json_extract(s.value_json, @path) = @text',
  json: 'AND (json_extract(s.value_json, @path) = @text OR s.value_json -> @path = @json)',
}
const byShape = <T>(make: (shape: Shape) => T): Record<Shape, T> => ({ none: make('none'), text: make('text'), json: make('json') })

/** The ns_tag token of a namespace, as schema.sql's view computes it: 'ns' || hex(namespace). */
const nsTag = (ns: string) => `ns${Buffer.from(ns).toString('hex').toUpperCase()}`

export function createKvStore(db: Db) {
  // An upsert: created_at_ms is kept, the triggers re-index the value.
  const upsert = db.prepare(`
    INSERT INTO store (namespace, key, value_json, created_at_ms, updated_at_ms) VALUES (@ns, @key, @value_json, @now, @now)
    ON CONFLICT (namespace, key) DO UPDATE SET value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms`)
  const byKey = db.prepare<[string, string], EntryRow>(`SELECT ${ENTRY} FROM store s WHERE namespace = ? AND key = ?`)
  const firstPage = db.prepare<[string, number], EntryRow>(`SELECT ${ENTRY} FROM store s WHERE namespace = +? ORDER BY key LIMIT +?`)
  const nextPage = db.prepare<[string, string, number], EntryRow>(
    `SELECT ${ENTRY} FROM store s WHERE namespace = +? AND key > +? ORDER BY key LIMIT +?`)
  const deleteKey = db.prepare('DELETE FROM store WHERE namespace = ? AND key = ?')
  const deleteNamespace = db.prepare('DELETE FROM store WHERE namespace = ?')

  const shapeOf = (s: Search): Shape => (s.filter === undefined ? 'none' : s.filter.json === null ? 'text' : 'json')

  // The whole index. Unfiltered: the newest RANKED_CANDIDATES matches (the cutoff id is found by walking
  // the matches newest first, which costs no scoring; @match includes the namespace's ns_tag token, so the
  // walk stays inside FTS5). Filtered: every match. FTS5 consumes `ORDER BY rank` and the join is streamed
  // in rank order, so entry rows, filters and snippet() are evaluated only until `limit` rows pass.
  const CUTOFF = `SELECT rowid FROM store_fts WHERE store_fts MATCH @match
    ORDER BY rowid DESC LIMIT 1 OFFSET ${RANKED_CANDIDATES - 1}`
  const wholeIndex = byShape((shape) => db.prepare<Record<string, unknown>, HitRow>(`
    SELECT ${ENTRY}, f.rank AS rank, ${SNIPPET} AS snippet FROM store_fts f JOIN store s ON s.id = f.rowid
    WHERE store_fts MATCH @match ${shape === 'none' ? `AND f.rowid >= coalesce((${CUTOFF}), 0)` : FILTER[shape]}
    ORDER BY f.rank LIMIT +@limit`))

  // The recent index (schema.sql: store_fts_recent). Rowid bounds are CAST because FTS5 ignores a bound
  // that is not an INTEGER value, and better-sqlite3 binds JavaScript numbers as REAL: uncast, `rowid >= ?`
  // would silently scan every match.
  // The newest RANKED_CANDIDATES matches that pass the filter, newest first (the entry row is joined only
  // for a filter to read). Unfiltered, only how many and the oldest id are needed: counted inside SQLite.
  const CANDIDATES = (shape: Shape) => `SELECT r.rowid AS id FROM store_fts_recent r
    ${shape === 'none' ? '' : 'JOIN store s ON s.id = r.rowid'}
    WHERE store_fts_recent MATCH @match ${FILTER[shape]} ORDER BY r.rowid DESC LIMIT ${RANKED_CANDIDATES}`
  const recentCutoff = db.prepare<Record<string, unknown>, { cutoff: number | null; matches: number }>(
    `SELECT min(id) AS cutoff, count(*) AS matches FROM (${CANDIDATES('none')})`)
  const candidatesOf = (shape: Shape) => db.prepare<Record<string, unknown>, number>(CANDIDATES(shape)).pluck()
  const recentCandidates = { text: candidatesOf('text'), json: candidatesOf('json') }
  // The best `limit` of them. Unfiltered, they are every match from the oldest on; filtered, the list says
  // which (a lookup, where evaluating the filter again would read each entry again).
  // bm25 as a column sorted by SQLite: FTS5's own `ORDER BY rank` plan is slower here (≈ 1.5×, measured).
  const recentTop = byShape((shape) => db.prepare<Record<string, unknown>, { id: number; rank: number }>(`
    SELECT rowid AS id, bm25(store_fts_recent, 1.0, 1.0, 1.0, 0.0) AS rank FROM store_fts_recent
    WHERE store_fts_recent MATCH @match AND rowid >= CAST(@cutoff AS INTEGER)
      ${shape === 'none' ? '' : 'AND +rowid IN (SELECT value FROM json_each(@ids))'}
    ORDER BY rank LIMIT +@limit`))
  // The entries and snippets of the ids recentTop chose (the window has no content: store_fts does): one
  // forward walk of store_fts over their id range (`+f.rowid` keeps the IN list from becoming one FTS5 seek
  // per id, each costing a walk of every segment).
  const entriesWithSnippets = db.prepare<{ match: string; lo: number; hi: number; ids: string }, EntryRow & { id: number; snippet: string }>(`
    SELECT f.rowid AS id, ${ENTRY}, ${SNIPPET} AS snippet FROM store_fts f JOIN store s ON s.id = f.rowid
    WHERE store_fts MATCH @match AND f.rowid >= CAST(@lo AS INTEGER) AND f.rowid <= CAST(@hi AS INTEGER)
      AND +f.rowid IN (SELECT value FROM json_each(@ids))`)

  /** Ranks in the recent index when it holds at least `limit` results; null when it holds fewer. */
  function searchRecent(shape: Shape, params: Record<string, unknown>, limit: number): HitRow[] | null {
    const { match } = params as { match: string }
    let top: Array<{ id: number; rank: number }>
    if (shape === 'none') {
      const { cutoff, matches } = recentCutoff.get(params)!
      if (cutoff === null || matches < limit) return null
      top = recentTop.none.all({ match, limit, cutoff })
    } else {
      const candidates = recentCandidates[shape].all(params)
      if (candidates.length < limit) return null
      top = recentTop[shape].all({ match, limit, cutoff: candidates[candidates.length - 1], ids: JSON.stringify(candidates) })
    }
    const ids = top.map((t) => t.id)
    const rows = new Map(entriesWithSnippets.all({ match, lo: Math.min(...ids), hi: Math.max(...ids), ids: JSON.stringify(ids) })
      .map((r) => [r.id, r]))
    return top.flatMap(({ id, rank }) => {
      const r = rows.get(id)
      if (r === undefined) return [] // both indexes are written in the same statements; never expected
      const { id: _, ...entry } = r
      return [{ ...entry, rank }]
    })
  }

  return {
    put(ns: string, key: string, valueJson: string, nowMs: number): void {
      upsert.run({ ns, key, value_json: valueJson, now: nowMs })
    },

    get(ns: string, key: string): EntryRow | undefined {
      return byKey.get(ns, key)
    },

    /** Entries in key (byte) order after `afterKey`; at most `limit`. */
    list(ns: string, afterKey: string | null, limit: number): EntryRow[] {
      return afterKey === null ? firstPage.all(ns, limit) : nextPage.all(ns, afterKey, limit)
    },

    remove(ns: string, key: string): void {
      deleteKey.run(ns, key)
    },

    removeNamespace(ns: string): void {
      deleteNamespace.run(ns)
    },

    /**
     * Best first by bm25 (lower is better), among the newest RANKED_CANDIDATES matches that pass the filter
     * in the recent window, ranked against the window; when the window holds fewer than `limit` of them:
     * unfiltered, the newest RANKED_CANDIDATES matches of the whole index, filtered, every match, ranked
     * against the whole index (README: Store, Which matches are ranked).
     */
    search(s: Search): HitRow[] {
      // The tag narrows the matches to the namespace inside FTS5 (its bm25 weight is 0: schema.sql). The
      // tag is exact ('ns' || hex of the name), so no comparison of s.namespace is needed.
      const terms = ftsQuery(s.terms)
      const match = s.namespace === undefined ? terms : `ns_tag : ${nsTag(s.namespace)} ${terms}`
      const params: Record<string, unknown> = { match, limit: s.limit }
      if (s.filter !== undefined) {
        params.path = s.filter.path
        params.text = s.filter.text ?? null
        if (s.filter.json !== null) params.json = s.filter.json
      }
      const shape = shapeOf(s)
      return searchRecent(shape, params, s.limit) ?? wholeIndex[shape].all(params)
    },
  }
}
