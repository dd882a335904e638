// Lists in (created_at_ms, id) order after a time cursor, as src/store/sqlite/time-pages.ts pages them.
// (PostgreSQL driver)
import { statement, type Sql, type Statement } from './sql.ts'
import type { TimeCursor } from '../types.ts'

/** A page's statement: $1 the limit, then one value per filter used, then the cursor's time and id. */
export function pageSql(table: string, columns: string, used: readonly string[], hasCursor: boolean): string {
  const conds = used.map((column, i) => `${column} = $${i + 2}`)
  if (hasCursor) conds.push(`(created_at_ms, id) > ($${used.length + 2}, $${used.length + 3})`)
  const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : ''
  return `SELECT ${columns} FROM ${table} ${where} ORDER BY created_at_ms, id LIMIT $1`
}

/**
 * Pages of `table` (its `columns`), filtered by equality on the optional `filters` columns. One named
 * statement per combination of filters and cursor, declared here once per process (statement names are
 * global): a statement that keeps `column = $n OR $n IS NULL` would get one generic plan for every
 * combination, and that plan cannot pick the index whose order is the page order. The cursor is a row
 * comparison, which a btree on (…, created_at_ms, id) answers as one range scan. Returns limit + 1 rows.
 */
export function timePages<Row>(table: string, columns: string, filters: readonly string[]) {
  const statements = new Map<string, Statement<Row>>()
  function statementFor(used: readonly string[], hasCursor: boolean): Statement<Row> {
    const key = `${used.join(',')}|${hasCursor}`
    let stmt = statements.get(key)
    if (stmt === undefined) {
      const name = [`${table}_page`, ...used, ...(hasCursor ? ['after'] : [])].join('_')
      stmt = statement<Row>(name, pageSql(table, columns, used, hasCursor))
      statements.set(key, stmt)
    }
    return stmt
  }
  return (db: Sql, values: Record<string, string | undefined>, after: TimeCursor | null, limit: number): Promise<Row[]> => {
    const used = filters.filter((column) => values[column] !== undefined)
    const params: unknown[] = [limit + 1, ...used.map((column) => values[column])]
    if (after !== null) params.push(after.createdAtMs, after.id)
    return statementFor(used, after !== null).all(db, params)
  }
}
