// Full-text search of the store on PostgreSQL: the SQLite driver's query semantics (R§21.5: each term a
// literal phrase, all ANDed; namespace; filter_path/filter_value) over the `search` tsvector the driver writes
// (search-vector.ts: FTS5's tokens), so that both drivers find the same entries. Ranked by ts_rank, snippets as
// FTS5 makes them (snippet.ts). README: Store lists where the answers differ from FTS5's.
import type pg from 'pg'
import type { Clock } from '../../clock.ts'
import { RANKED_CANDIDATES } from '../../domain/search.ts'
import { statement } from './sql.ts'
import { tokensOf } from '../../domain/fts5-tokens.ts'
import { valueSearchText } from './search-text.ts'
import { allWords, lexeme, searchQuery } from './search-vector.ts'
import { snippet } from './snippet.ts'
import type { HitRow, Search } from '../types.ts'

// The words, all answered by the GIN index: $3 is the search's tsquery ($1), and for a filter also the words
// its value must hold to pass (see filterWords). A phrase costs the index a recheck of each entry it finds
// (positions are not in a GIN index); single words do not.
const WORDS = `s.search @@ $3::tsquery AND ($2::text IS NULL OR s.namespace = $2)`

// filter_path/filter_value as the SQLite driver compares them (json_extract(v, path) = text, or v -> path =
// json): a string by its text, an object or array by its JSON text, a number, boolean or null by its JSON
// text against the canonical `json` (null when filter_value is not a JSON scalar). `#>` alone would also
// read `[0]` as the key "0" of an object and `.0` as an index of an array, which SQLite's paths do not: a
// guard checks that the value before each such step is an array (index) or an object (key). Parsing a
// value costs ~30 µs a KB, so it must first hold one of the texts a pass implies ($10–$12).
// $5 path steps (null: no filter), $6/$7 guards (steps before, required type), $8 text, $9 json. (OFFSET 0
// keeps a subquery from being flattened, which would parse the value once per mention of doc or x.)
const FILTER = `($5::text[] IS NULL OR (
  (strpos(s.value_json, $10) > 0 OR strpos(s.value_json, $11) > 0 OR strpos(s.value_json, $12) > 0)
  AND (SELECT CASE json_typeof(x)
      WHEN 'string' THEN x #>> '{}' = $8 WHEN 'object' THEN x::text = $8 WHEN 'array' THEN x::text = $8
      ELSE x::text = $9 END
    FROM (SELECT doc #> $5::text[] AS x FROM (SELECT docket_json(s.value_json) AS doc OFFSET 0) d
          WHERE NOT EXISTS (SELECT FROM unnest($6::int[], $7::text[]) g (n, t)
            WHERE json_typeof(doc #> ($5::text[])[1:g.n]) IS DISTINCT FROM g.t)
          OFFSET 0) e)))`

/**
 * The newest RANKED_CANDIDATES results, as on SQLite, found one of two ways. `newestFirst`: the primary key
 * backwards until that many pass, for words in many entries (each entry read costs a few µs: its tsvector
 * comes from TOAST). `byIndex`: every entry holding the words through the GIN index (≈ 1 µs each: no TOAST
 * read), then newest first until that many pass the filter. The planner would walk the primary key for
 * words in as few as 5 % of entries: it does not count the TOAST reads.
 */
const CANDIDATES = {
  newestFirst: `SELECT s.id, s.search FROM store s WHERE ${WORDS} AND ${FILTER} ORDER BY s.id DESC LIMIT ${RANKED_CANDIDATES}`,
  // OFFSET 0: planned alone, the inner query has no order to keep, so it cannot walk the primary key.
  byIndex: `SELECT s.id, s.search FROM (SELECT id FROM (SELECT s.id FROM store s WHERE ${WORDS} OFFSET 0) a ORDER BY id DESC) m
    CROSS JOIN LATERAL (SELECT s.id, s.search FROM store s WHERE s.id = m.id AND ${FILTER}) s
    ORDER BY m.id DESC LIMIT ${RANKED_CANDIDATES}`,
}

// $1 the terms ANDed as phrases, $4 limit. ts_rank with equal weights and normalization 1 (divided by 1 +
// log of the entry's length, as bm25 favours short entries), negated so that lower is better as with bm25.
const searchSql = (candidates: string) => `
WITH hits AS (${candidates}
), best AS (
  SELECT id, -ts_rank('{1,1,1,1}', search, $1::tsquery, 1) AS rank FROM hits ORDER BY rank, id LIMIT $4
)
SELECT s.namespace, s.key, s.value_json, s.created_at_ms, s.updated_at_ms, b.rank
FROM best b JOIN store s ON s.id = b.id
ORDER BY b.rank, b.id`
const SEARCH = { newestFirst: searchSql(CANDIDATES.newestFirst), byIndex: searchSql(CANDIDATES.byIndex) }

// What ANALYZE found: the entry count, the share of entries holding each of the most common words, and of
// each of the most common namespaces.
const statsOf = statement<{ entries: number; words: string[] | null; word_freqs: number[] | null; namespaces: string[] | null; namespace_freqs: number[] | null }>(
  'search_stats', `
  SELECT c.reltuples::float8 AS entries, w.most_common_elems::text::text[] AS words, w.most_common_elem_freqs AS word_freqs,
    n.most_common_vals::text::text[] AS namespaces, n.most_common_freqs AS namespace_freqs
  FROM pg_class c
  LEFT JOIN pg_stats w ON w.schemaname = current_schema() AND w.tablename = 'store' AND w.attname = 'search'
  LEFT JOIN pg_stats n ON n.schemaname = current_schema() AND n.tablename = 'store' AND n.attname = 'namespace'
  WHERE c.oid = 'store'::regclass`)
const STATS_TTL_MS = 60_000

type Stats = { entries: number; words: Map<string, number>; namespaces: Map<string, number>; readAtMs: number }

/** The store's search on `pool`. */
export function createSearch(pool: pg.Pool, clock: Clock): (s: Search) => Promise<HitRow[]> {
  let stats: Stats | undefined
  async function currentStats(): Promise<Stats> {
    if (stats === undefined || clock.now() - stats.readAtMs >= STATS_TTL_MS) {
      const r = (await statsOf.one(pool))!
      const zip = (keys: string[] | null, freqs: number[] | null) => new Map((keys ?? []).map((k, i) => [k, freqs![i]]))
      stats = { entries: r.entries, words: zip(r.words, r.word_freqs), namespaces: zip(r.namespaces, r.namespace_freqs), readAtMs: clock.now() }
    }
    return stats
  }

  return async function search(s: Search): Promise<HitRow[]> {
    const query = searchQuery(s.terms)
    if (query === null) return [] // no term has a word: FTS5 matches nothing either
    const filter = s.filter === undefined ? null : pgFilter(s.filter)
    if (filter === 'never') return []
    const words = filter === null ? null : filterWords(s.filter!)
    const plan = isCommon(await currentStats(), s.terms, s.namespace) ? 'newestFirst' : 'byIndex'
    // Unnamed, so planned for this search's own tsquery (a named statement's generic plan would guess).
    const { rows } = await pool.query<Omit<HitRow, 'snippet'>>(SEARCH[plan], [
      query, s.namespace ?? null, words === null ? query : `${query} & (${words})`, s.limit,
      filter?.steps ?? null, filter?.guards.map((g) => g.steps) ?? [], filter?.guards.map((g) => g.type) ?? [],
      s.filter?.text ?? null, s.filter?.json ?? null, ...(filter?.mustHold ?? [null, null, null]),
    ])
    const phrases = s.terms.map((t) => tokensOf(t).map(lexeme)).filter((p) => p.length > 0)
    return rows.map((r) => ({ ...r, snippet: snippet([r.namespace, r.key, valueSearchText(r.value_json)], phrases) ?? '' }))
  }
}

/**
 * Whether the search matches so many entries that walking them newest first costs less than reading every
 * match: at about √(7,000 · entries) matches the two cost the same (≈ 5 µs an entry walked, ≈ 0.7 µs a
 * match read through the index, RANKED_CANDIDATES wanted). Estimated from ANALYZE's statistics: a term
 * holds the share of its rarest word; a word or namespace not among the most common ones counts as rare.
 */
function isCommon(stats: Stats, terms: string[], namespace: string | undefined): boolean {
  if (!(stats.entries > 0)) return false
  let share = namespace === undefined ? 1 : (stats.namespaces.get(namespace) ?? 0)
  for (const term of terms) {
    const words = tokensOf(term).map(lexeme)
    if (words.length > 0) share *= Math.min(...words.map((w) => stats.words.get(w) ?? 0))
  }
  return share * stats.entries >= Math.sqrt(7000 * stats.entries)
}

type PgFilter = {
  steps: string[]
  guards: Array<{ steps: number; type: 'array' | 'object' }>
  /** Texts of which a value must hold at least one to pass (null: none). */
  mustHold: [string | null, string | null, string | null]
}

// A step of a path isJsonPath accepted: ."quoted key", .key, [N], [#] or [#-N].
const STEP = /\.(?:"([^"]*)"|([^."[\]]+))|\[(?:(\d+)|#(?:-(\d+))?)\]/gy
// A text path element that json's #> would read as an array index (strtol: leading space, a sign).
const INDEX_LIKE = /^[ \t\n\v\f\r]*[+-]?\d+$/

/**
 * A filter as `#>` path elements, or 'never' when nothing can pass: no filter_value, or `[#]` (one past
 * the last element). `[#-N]` is -N, which `#>` counts from the end as SQLite does.
 */
function pgFilter(filter: NonNullable<Search['filter']>): PgFilter | 'never' {
  const { text, json } = filter
  if (text === undefined) return 'never'
  // Values are JSON.stringify's text: a string equal to `text` is written as JSON.stringify(text), an
  // object or array as its JSON text, a scalar as `json`.
  const isComposite = /^[[{]/.test(text)
  const result: PgFilter = {
    steps: [],
    guards: [],
    mustHold: [JSON.stringify(text), isComposite ? text : null, json],
  }
  STEP.lastIndex = 1 // after the '$'
  for (let m = STEP.exec(filter.path); m !== null; m = STEP.exec(filter.path)) {
    const [, quoted, bare, index, fromEnd] = m
    const key = quoted ?? bare
    if (key !== undefined) {
      if (INDEX_LIKE.test(key)) result.guards.push({ steps: result.steps.length, type: 'object' })
      result.steps.push(key)
      continue
    }
    if (index === undefined && (fromEnd === undefined || /^0+$/.test(fromEnd))) return 'never'
    result.guards.push({ steps: result.steps.length, type: 'array' })
    result.steps.push(index ?? `-${fromEnd}`)
  }
  return result
}

/**
 * The words a value that passes the filter holds, as a tsquery (null: it may hold none). Search indexes a
 * value's strings and numbers (search-text.ts): a string equal to `text` puts the words of `text` in the
 * vector, a number equal to `json` those of its text as SQLite prints it; an object or array (compared by its
 * JSON text), true, false and null may put none.
 */
function filterWords(filter: NonNullable<Search['filter']>): string | null {
  const { text, json } = filter
  if (text === undefined || /^[[{]/.test(text)) return null
  const alternatives = [text]
  if (json !== null) {
    if (!/^-?\d/.test(json)) return null
    alternatives.push(valueSearchText(json) ?? '')
  }
  const queries = alternatives.map(allWords)
  if (queries.some((q) => q === null)) return null
  return queries.map((q) => `(${q})`).join(' | ')
}
