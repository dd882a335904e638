// The key-value store and its full-text search. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext, type TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'

export function entriesChanges(ctx: PgContext): Pick<TxChanges, 'putEntry' | 'deleteEntry' | 'deleteNamespace'> {
  void ctx
  return {
    putEntry: notYet('putEntry'),
    deleteEntry: notYet('deleteEntry'),
    deleteNamespace: notYet('deleteNamespace'),
  }
}

export function entriesReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'entry' | 'entries' | 'search'> {
  void pool
  void ctx
  return {
    entry: notYet('entry'),
    entries: notYet('entries'),
    search: notYet('search'),
  }
}
