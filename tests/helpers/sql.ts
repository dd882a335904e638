// One way for a test to query a Docket database of either driver, for the facts the API does not show.
import type { Db } from '../../src/store/sqlite/db.ts'
import type { Driver } from '../../src/store/driver.ts'
import { createPool } from '../../src/store/postgres/connect.ts'

/** A statement both databases take as it is, or each its own text. */
export type Sql = string | { sqlite: string; postgres: string }

export type Rows = Array<Record<string, any>>

/**
 * A database of either driver. `sql` runs one statement and returns its rows (none for a write). Parameters
 * are `?`, numbered for PostgreSQL (so a PostgreSQL text holds no other `?`); bigint columns read as numbers
 * on both; a boolean is 0/1 on SQLite, true/false on PostgreSQL.
 */
export type Probe = {
  driver: Driver['kind']
  sql(statement: Sql, ...params: unknown[]): Promise<Rows>
}

export function sqliteProbe(db: Db): Probe {
  return {
    driver: 'sqlite',
    async sql(statement, ...params) {
      const prepared = db.prepare(typeof statement === 'string' ? statement : statement.sqlite)
      if (prepared.reader) return prepared.all(...params) as Rows
      prepared.run(...params)
      return []
    },
  }
}

/** A probe on its own small pool, with the driver's client settings (int8 as numbers, U+0000 encoded). */
export function postgresProbe(url: string): Probe & { close(): Promise<void> } {
  const pool = createPool(url, { size: 2 })
  return {
    driver: 'postgres',
    async sql(statement, ...params) {
      let n = 0
      const text = (typeof statement === 'string' ? statement : statement.postgres).replaceAll('?', () => `$${++n}`)
      return (await pool.query(text, params)).rows
    },
    close: () => pool.end(),
  }
}
