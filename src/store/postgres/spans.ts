// OTLP spans and undecoded blobs. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext, type TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'

export function spansChanges(ctx: PgContext): Pick<TxChanges, 'ingestSpans' | 'storeBlob'> {
  void ctx
  return {
    ingestSpans: notYet('ingestSpans'),
    storeBlob: notYet('storeBlob'),
  }
}

export function spansReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'spans' | 'spanCountOfRun'> {
  void pool
  void ctx
  return {
    spans: notYet('spans'),
    spanCountOfRun: notYet('spanCountOfRun'),
  }
}
