// Artifacts. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext, type TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'

export function artifactsChanges(ctx: PgContext): Pick<TxChanges, 'createArtifact'> {
  void ctx
  return {
    createArtifact: notYet('createArtifact'),
  }
}

export function artifactsReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'artifacts'> {
  void pool
  void ctx
  return {
    artifacts: notYet('artifacts'),
  }
}
