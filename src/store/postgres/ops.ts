// Queue statistics (/ops/queue) and /health counts. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext } from './context.ts'
import type { Reads } from '../driver.ts'

export function opsReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'queue' | 'health'> {
  void pool
  void ctx
  return {
    queue: notYet('queue'),
    health: notYet('health'),
  }
}
