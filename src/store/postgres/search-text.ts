// What search sees of a value on PostgreSQL: exactly what SQLite's store_search_text view has (schema.sql):
// the strings and numbers of the value in document order, joined by newlines, numbers as SQLite prints them
// (0.30000000000000004, 1.0e+21, 1.0e+20 for 100000000000000000000). It is computed by SQLite itself, on a
// private in-memory database, with the view's own expression: one definition, and no second JSON walker or
// number printer to keep in step with it. ≈ 10 µs for a value of a few KB.
import Database from 'better-sqlite3'

let textOf: ((valueJson: string) => string | null) | undefined

/** The value's searchable text, or null when it has no string or number (as the view's NULL). */
export function valueSearchText(valueJson: string): string | null {
  if (textOf === undefined) {
    const db = new Database(':memory:')
    const statement = db.prepare<[string], string | null>(`SELECT (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(?)
      WHERE type IN ('text', 'integer', 'real') ORDER BY id))`).pluck()
    textOf = (json) => statement.get(json) ?? null
  }
  return textOf(valueJson)
}
