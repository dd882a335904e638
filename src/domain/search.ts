// A user's search text as terms, and the terms as an FTS5 query that cannot be an FTS5 syntax error.

/**
 * A search ranks at most the RANKED_CANDIDATES newest (highest id) results that pass its filter (README:
 * Store, Which matches are ranked): scoring costs per entry, walking newest first does not. Both drivers.
 */
export const RANKED_CANDIDATES = 1000

/**
 * R§21.5: `q` is split on spaces, tabs, CR and LF into terms; each term is a literal phrase and all must
 * match. Returns null when there is no term at all.
 */
export function searchTerms(q: string): string[] | null {
  const terms = q.split(/[ \t\r\n]+/).filter((t) => t !== '')
  return terms.length === 0 ? null : terms
}

/**
 * The terms as an FTS5 query: each a double-quoted phrase (internal `"` doubled), the phrases ANDed. Inside a
 * quoted phrase FTS5 has no operators, so `OR`, `NEAR`, `*`, `:` and parentheses are plain text. NUL is the
 * one character a phrase cannot hold (FTS5 reads the query as a C string, so it would cut the closing quote
 * off); the tokenizer treats it as a separator anyway, so it becomes a space.
 */
export function ftsQuery(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replaceAll('\0', ' ').replaceAll('"', '""')}"`).join(' ')
}

const JSON_SCALAR = /^[ \t\r\n]*(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)[ \t\r\n]*$/

/**
 * W32: a `filter_value` that is a JSON number, boolean or null is compared as that JSON value, in the
 * canonical text JSON.stringify gives (values are stored that way); anything else is compared as text only.
 */
export function filterJson(text: string): string | null {
  if (!JSON_SCALAR.test(text)) return null
  const value: unknown = JSON.parse(text)
  // 1e999 parses to Infinity, which no stored value can be equal to (JSON.stringify stores it as null).
  return typeof value === 'number' && !Number.isFinite(value) ? null : JSON.stringify(value)
}

// The subset of SQLite's JSON path syntax that SQLite always accepts: `$`, then `.key`, `."quoted key"`,
// `[N]`, `[#]` or `[#-N]` steps. SQLite parses a path lazily while walking a document, so a bad step
// past the end of one value would only fail on another; checking up front keeps that out of queries.
// Backslashes and NUL are refused (SQLite reads them as escapes and as the end of the path).
const JSON_PATH = /^\$(?:\.(?:"[^"\\\0]*"|[^."[\]\\\0]+)|\[(?:\d+|#(?:-\d+)?)\])*$/

export function isJsonPath(path: string): boolean {
  return JSON_PATH.test(path)
}
