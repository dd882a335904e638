// Pipelines: create, pause and resume, and reading them. (PostgreSQL driver)
import type pg from 'pg'
import type { PgContext, TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'
import type { PipelineRow } from '../types.ts'
import { statement } from './sql.ts'
import { AppError } from '../../domain/errors.ts'
import { claimableStages } from '../../domain/pipeline.ts'
import { newId } from '../../domain/ids.ts'

// `paused` as 0/1, as PipelineRow has it (SQLite's column).
const COLUMNS = 'id, name, definition_json, paused::int AS paused, created_at_ms'

// The pipeline and the stages each role claims from, in one statement. ON CONFLICT (name) DO NOTHING is
// what makes two nodes creating one name at once answer alike: the second insert waits for the first's
// transaction and, once that commits, inserts nothing (no row back: duplicate_name); if it rolls back,
// the second goes ahead. Catching the unique violation (23505) instead would answer the same, but only
// after the statement failed.
const insert = statement<{ id: string }>('pipelines_insert', `
  WITH created AS (
    INSERT INTO pipelines (id, name, definition_json, created_at_ms) VALUES ($1, $2, $3, $4)
    ON CONFLICT (name) DO NOTHING
    RETURNING id
  ), roles AS (
    INSERT INTO stage_roles (agent_role, pipeline_id, stage)
    SELECT r.agent_role, created.id, r.stage FROM created, unnest($5::text[], $6::text[]) AS r (agent_role, stage)
  )
  SELECT id FROM created`)
const setPausedStmt = statement<PipelineRow>('pipelines_set_paused',
  `UPDATE pipelines SET paused = $2 WHERE id = $1 RETURNING ${COLUMNS}`)
const byId = statement<PipelineRow>('pipelines_by_id', `SELECT ${COLUMNS} FROM pipelines WHERE id = $1`)
const all = statement<PipelineRow>('pipelines_all', `SELECT ${COLUMNS} FROM pipelines ORDER BY created_at_ms DESC, id DESC`)

export function pipelinesChanges(ctx: PgContext): Pick<TxChanges, 'createPipeline' | 'setPaused'> {
  return {
    /** Stores the definition as sent (unknown fields kept) with the stages each role claims from. */
    async createPipeline(tx, name, definition, compiled, nowMs) {
      const stages = claimableStages(compiled)
      const created = await insert.one(tx, [newId(nowMs), name, JSON.stringify(definition), nowMs,
        stages.map((s) => s.agentRole), stages.map((s) => s.name)])
      if (created === undefined) throw new AppError('duplicate_name', 409, 'Pipeline name already exists')
      return created.id
    },

    async setPaused(tx, pipelineId, paused) {
      const row = await setPausedStmt.one(tx, [pipelineId, paused])
      if (row === undefined) throw new AppError('not_found', 404, 'Pipeline not found')
      // Resuming makes the pipeline's waiting work claimable again, on every node.
      if (!paused) ctx.wake(tx)
      return row
    },
  }
}

export function pipelinesReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'pipeline' | 'pipelines' | 'compiledPipeline'> {
  return {
    pipeline: (id) => byId.one(pool, [id]),
    pipelines: () => all.all(pool),
    compiledPipeline: (id) => ctx.compiled(pool, id),
  }
}
