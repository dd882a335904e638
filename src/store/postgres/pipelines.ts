// Pipelines: create, pause and resume, and reading them. (PostgreSQL driver)
import type pg from 'pg'
import { notYet, type PgContext, type TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'

export function pipelinesChanges(ctx: PgContext): Pick<TxChanges, 'createPipeline' | 'setPaused'> {
  void ctx
  return {
    createPipeline: notYet('createPipeline'),
    setPaused: notYet('setPaused'),
  }
}

export function pipelinesReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'pipeline' | 'pipelines' | 'compiledPipeline'> {
  void pool
  void ctx
  return {
    pipeline: notYet('pipeline'),
    pipelines: notYet('pipelines'),
    compiledPipeline: notYet('compiledPipeline'),
  }
}
