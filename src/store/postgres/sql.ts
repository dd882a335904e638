// How the PostgreSQL driver's modules run SQL: each statement is named once, so every pooled connection
// prepares it on first use and then only binds (pg sends Parse once per connection for a named query).
import type pg from 'pg'
import { Tx } from './tx.ts'

/** Where a statement runs: the pool (reads, autocommit) or a write's transaction. */
export type Sql = pg.Pool | Tx

export type Statement<R> = {
  all(db: Sql, values?: unknown[]): Promise<R[]>
  one(db: Sql, values?: unknown[]): Promise<R | undefined>
  /** Rows affected (UPDATE, DELETE, INSERT). */
  run(db: Sql, values?: unknown[]): Promise<number>
  /** The rows, of the statement run alone if the transaction has not begun (Tx.alone: see there when that may be). */
  alone(tx: Tx, values?: unknown[]): Promise<{ rows: R[]; alone: boolean }>
}

const names = new Set<string>()

/** A named statement; names are unique across the driver (a clash is a bug, caught at load). */
export function statement<R = Record<string, unknown>>(name: string, text: string): Statement<R> {
  if (names.has(name)) throw new Error(`two PostgreSQL statements are named ${name}`)
  names.add(name)
  const query = (db: Sql, values: unknown[] = []) =>
    db instanceof Tx ? db.query<R & pg.QueryResultRow>({ name, text, values }) : db.query<R & pg.QueryResultRow>({ name, text, values })
  return {
    all: async (db, values) => (await query(db, values)).rows,
    one: async (db, values) => (await query(db, values)).rows[0],
    run: async (db, values) => (await query(db, values)).rowCount ?? 0,
    async alone(tx, values = []) {
      const { result, alone } = await tx.alone<R & pg.QueryResultRow>({ name, text, values })
      return { rows: result.rows, alone }
    },
  }
}
