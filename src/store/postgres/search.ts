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
import { allWords, lexeme, namespaceLexeme, RECENT_BUCKET, searchQuery } from './search-vector.ts'
import { snippet } from './snippet.ts'
import type { HitRow, Search } from '../types.ts'

// The words, all answered by the GIN index: $3 is the search's tsquery ($1) with the namespace's lexeme and,
// for a filter, the words its value must hold to pass (see filterWords). A phrase costs the index a recheck
// of each entry it finds (positions are not in a GIN index); single words do not. `window` also requires
// one of the id buckets (search-vector.ts) of the newest $13 entries.
const WORDS = (window: boolean) => `s.search @@ ${window ? `($3::tsquery && (SELECT string_agg('''#r' || b || '''', ' | ')::tsquery
    FROM (SELECT max(id) AS newest FROM store) m, generate_series((m.newest - $13) / ${RECENT_BUCKET}, m.newest / ${RECENT_BUCKET}) b))` : '$3::tsquery'}
  AND ($2::text IS NULL OR s.namespace = $2)`

// filter_path/filter_value as the SQLite driver compares them (json_extract(v, path) = text, or v -> path =
// json): a string by its text, an object or array by its JSON text, a number, boolean or null as the
// canonical `json` (null when filter_value is not a JSON scalar; numbers compare as numbers, which for the
// canonical JSON.stringify text of both sides is the same as comparing their text). `#>` alone would also
// read `[0]` as the key "0" of an object and `.0` as an index of an array, which SQLite's paths do not: a
// guard checks that the value before each such step is an array (index) or an object (key). The value is
// parsed once, as jsonb (≈ 15 µs for a few KB), and only if it holds one of the texts a pass implies
// ($10–$12); an object or array is compared by the JSON text docket_json reads (jsonb reorders keys).
// $5 path steps (null: no filter), $6/$7 guards (steps before, required type), $8 text, $9 json. `v` is the
// value read from TOAST and decompressed once (`|| ''` makes the copy every later mention uses); OFFSET 0
// keeps a subquery from being flattened, which would read or parse the value once per mention of v, doc, x.
const FILTER = `($5::text[] IS NULL OR (SELECT CASE jsonb_typeof(x)
      WHEN 'string' THEN x #>> '{}' = $8
      WHEN 'object' THEN CASE WHEN left($8, 1) = '{' THEN (docket_json(v) #> $5::text[])::text = $8 ELSE false END
      WHEN 'array' THEN CASE WHEN left($8, 1) = '[' THEN (docket_json(v) #> $5::text[])::text = $8 ELSE false END
      ELSE x = $9::jsonb END
    FROM (SELECT doc #> $5::text[] AS x, v FROM (SELECT docket_jsonb(v) AS doc, v FROM (SELECT s.value_json || '' AS v OFFSET 0) t
            WHERE strpos(v, $10) > 0 OR strpos(v, $11) > 0 OR strpos(v, $12) > 0 OFFSET 0) d
          WHERE NOT EXISTS (SELECT FROM unnest($6::int[], $7::text[]) g (n, t)
            WHERE jsonb_typeof(doc #> ($5::text[])[1:g.n]) IS DISTINCT FROM g.t)
          OFFSET 0) e))`

/**
 * The newest RANKED_CANDIDATES results, as on SQLite: every entry holding the words, through the GIN index
 * (no entry's vector is read from TOAST unless a phrase needs its positions), newest first until that many
 * pass the filter. Words in many entries are first looked for among the newest entries only (`window`: their
 * id buckets are in the index too, so the index hands over only those), the way SQLite ranks in its recent
 * window; when fewer than RANKED_CANDIDATES pass there, the search runs again over every entry, so the
 * answer is the same. `candidates` says how many passed.
 */
// OFFSET 0: planned alone, the inner query has no order to keep, so it cannot walk the primary key (reading
// each entry's vector from TOAST to test the words: ≈ 10 µs an entry, which the planner does not count).
const candidates = (window: boolean) => `SELECT s.id, s.search
    FROM (SELECT id FROM (SELECT s.id FROM store s WHERE ${WORDS(window)} OFFSET 0) a ORDER BY id DESC) m
    CROSS JOIN LATERAL (SELECT s.id, s.search FROM store s WHERE s.id = m.id AND ${FILTER}) s
    ORDER BY m.id DESC LIMIT ${RANKED_CANDIDATES}`

// $1 the terms ANDed as phrases, $4 limit. ts_rank with equal weights and normalization 1 (divided by 1 +
// log of the entry's length, as bm25 favours short entries), negated so that lower is better as with bm25.
const searchSql = (window: boolean) => `
WITH hits AS (${candidates(window)}
), best AS (
  SELECT id, -ts_rank('{1,1,1,1}', search, $1::tsquery, 1) AS rank FROM hits ORDER BY rank, id LIMIT $4
)
SELECT s.namespace, s.key, s.value_json, s.created_at_ms, s.updated_at_ms, b.rank, (SELECT count(*) FROM hits)::int AS candidates
FROM best b JOIN store s ON s.id = b.id
ORDER BY b.rank, b.id`
const SEARCH = { all: searchSql(false), window: searchSql(true) }

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
    const index = [query, s.namespace === undefined ? null : `'${namespaceLexeme(s.namespace)}'`, words === null ? null : `(${words})`]
    const params = (window: number | null) => [
      query, s.namespace ?? null, index.filter((q) => q !== null).join(' & '), s.limit,
      filter?.steps ?? null, filter?.guards.map((g) => g.steps) ?? [], filter?.guards.map((g) => g.type) ?? [],
      s.filter?.text ?? null, s.filter?.json ?? null, ...(filter?.mustHold ?? [null, null, null]), ...(window === null ? [] : [window]),
    ]
    const window = recentWindow(await currentStats(), s)
    // Unnamed, so planned for this search's own tsquery (a named statement's generic plan would guess).
    type Row = Omit<HitRow, 'snippet'> & { candidates: number }
    let { rows } = await pool.query<Row>(window === null ? SEARCH.all : SEARCH.window, params(window))
    if (window !== null && (rows[0]?.candidates ?? 0) < RANKED_CANDIDATES) ({ rows } = await pool.query<Row>(SEARCH.all, params(null)))
    const phrases = s.terms.map((t) => tokensOf(t).map(lexeme)).filter((p) => p.length > 0)
    return rows.map(({ candidates: _, ...r }) => ({ ...r, snippet: snippet([r.namespace, r.key, valueSearchText(r.value_json)], phrases) ?? '' }))
  }
}

/**
 * How many of the newest entries to look in first (null: every entry), from ANALYZE's statistics: enough to
 * hold RANKED_CANDIDATES results three times over by the estimate. A term holds the share of its rarest word;
 * a word (or namespace) not among the most common ones counts as rare, so rare words search every entry; a
 * filter passes the share of the rarest word its value must hold.
 */
function recentWindow(stats: Stats, s: Search): number | null {
  if (!(stats.entries > 0)) return null
  let share = s.namespace === undefined ? 1 : (stats.namespaces.get(s.namespace) ?? 0)
  const rarest = (tokens: string[]) => Math.min(...tokens.map((t) => stats.words.get(lexeme(t)) ?? 0))
  // A phrase's words stand next to each other far less often than they share an entry: a tenth as often
  // for each word after the first, by guess (a second pass costs more than a wider first one).
  for (const tokens of s.terms.map(tokensOf)) if (tokens.length > 0) share *= rarest(tokens) * 0.1 ** (tokens.length - 1)
  if (s.filter?.text !== undefined && !/^[[{]/.test(s.filter.text)) {
    const tokens = tokensOf(s.filter.text)
    if (tokens.length > 0) share *= rarest(tokens)
  }
  const window = Math.ceil((3 * RANKED_CANDIDATES) / share)
  return window < stats.entries / 2 ? window : null
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
