import type { Db } from './db.ts'
import type { TimeCursor } from '../types.ts'

/**
 * Pages of `table` in (created_at_ms, id) order, filtered by equality on the given columns (undefined =
 * no filter), after a cursor. One statement per filter combination, prepared on first use; each has an
 * index whose order is the page order. Returns limit + 1 rows: the extra one only says there is more.
 */
export function timePages<Row>(db: Db, table: string) {
  const statements = new Map<string, ReturnType<typeof db.prepare<Record<string, unknown>, Row>>>()
  return (filters: Record<string, string | undefined>, after: TimeCursor | null, limit: number): Row[] => {
    const params: Record<string, unknown> = { limit: limit + 1 }
    const conds: string[] = []
    for (const [column, value] of Object.entries(filters)) {
      if (value === undefined) continue
      params[column] = value
      conds.push(`${column} = +@${column}`)
    }
    if (after !== null) {
      Object.assign(params, { after_ms: after.createdAtMs, after_id: after.id })
      conds.push('(created_at_ms > +@after_ms OR (created_at_ms = +@after_ms AND id > +@after_id))')
    }
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : ''
    let stmt = statements.get(where)
    if (stmt === undefined) {
      stmt = db.prepare(`SELECT * FROM ${table} ${where} ORDER BY created_at_ms, id LIMIT +@limit`)
      statements.set(where, stmt)
    }
    return stmt.all(params)
  }
}
