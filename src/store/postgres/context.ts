// What the PostgreSQL driver's modules share: the clock, cross-node wake-ups, and parsed pipelines.
import type { Tx } from './tx.ts'
import * as v from 'valibot'
import type { Clock } from '../../clock.ts'
import type { Changes, Reads } from '../driver.ts'
import type { Sql } from './sql.ts'
import { statement } from './sql.ts'
import { compilePipeline, DefinitionSchema, type CompiledPipeline } from '../../domain/pipeline.ts'

/** The channel every node LISTENs on; a payload is empty (claimable now) or the epoch ms it becomes so. */
export const WAKE_CHANNEL = 'docket_wake'

export type PgContext = {
  clock: Clock
  /**
   * Tells every node's long-poll waiters, this one's included, that work may be claimable: now, or from
   * `atMs` (not_before_ms, a retry delay). Sent once the transaction commits (wakes.ts), never for a
   * rollback.
   */
  wake(tx: Tx, atMs?: number): void
  /** A pipeline's parsed definition, or undefined for an unknown pipeline. */
  compiled(db: Sql, pipelineId: string): Promise<CompiledPipeline | undefined>
}

/** A change as a module writes it: the transaction's client first, then the Changes method's arguments. */
export type TxChanges = {
  [K in keyof Changes]: (tx: Tx, ...args: Parameters<Changes[K]>) => Promise<Awaited<ReturnType<Changes[K]>>>
}
export type PoolReads = Reads

const definitionOf = statement<{ definition_json: string }>('pipeline_definition', 'SELECT definition_json FROM pipelines WHERE id = $1')

export function createContext(clock: Clock): PgContext {
  // Definitions never change after create, so a parsed one is valid on every node for the life of the
  // process (pause state is not part of it: it is read by every claim).
  const compiled = new Map<string, CompiledPipeline>()
  return {
    clock,
    wake(tx, atMs) {
      tx.wakes.add(atMs === undefined ? '' : String(atMs))
    },
    async compiled(db, pipelineId) {
      let p = compiled.get(pipelineId)
      if (p === undefined) {
        const row = await definitionOf.one(db, [pipelineId])
        if (row === undefined) return undefined
        p = compilePipeline(v.parse(DefinitionSchema, JSON.parse(row.definition_json)))
        compiled.set(pipelineId, p)
      }
      return p
    },
  }
}
