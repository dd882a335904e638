import type { Db } from './db.ts'
import { AppError } from '../../domain/errors.ts'
import { claimableStages, compilePipeline, DefinitionSchema, type CompiledPipeline } from '../../domain/pipeline.ts'
import { newId } from '../../domain/ids.ts'
import * as v from 'valibot'
import type { PipelineRow } from '../types.ts'

export type PipelineStore = ReturnType<typeof createPipelineStore>

export function createPipelineStore(db: Db) {
  const insert = db.prepare(
    'INSERT INTO pipelines (id, name, definition_json, created_at_ms) VALUES (@id, @name, @definition_json, @now)',
  )
  const insertRole = db.prepare('INSERT INTO stage_roles (agent_role, pipeline_id, stage) VALUES (?, ?, ?)')
  const byName = db.prepare('SELECT 1 FROM pipelines WHERE name = ?').pluck()
  const byId = db.prepare<[string], PipelineRow>('SELECT * FROM pipelines WHERE id = ?')
  const all = db.prepare<[], PipelineRow>('SELECT * FROM pipelines ORDER BY created_at_ms DESC, id DESC')
  const setPausedStmt = db.prepare('UPDATE pipelines SET paused = ? WHERE id = ?')
  const definitionOf = db.prepare<[string], string>('SELECT definition_json FROM pipelines WHERE id = ?').pluck()

  // Definitions never change after create, so a parsed one is valid for the life of the process.
  const compiled = new Map<string, CompiledPipeline>()

  return {
    /** Stores the definition as sent (unknown fields kept) with the stages each role claims from. */
    create(name: string, definition: unknown, pipeline: CompiledPipeline, nowMs: number): string {
      if (byName.get(name) !== undefined) throw new AppError('duplicate_name', 409, 'Pipeline name already exists')
      const id = newId(nowMs)
      insert.run({ id, name, definition_json: JSON.stringify(definition), now: nowMs })
      for (const stage of claimableStages(pipeline)) insertRole.run(stage.agentRole, id, stage.name)
      return id
    },

    get(id: string): PipelineRow | undefined {
      return byId.get(id)
    },

    list(): PipelineRow[] {
      return all.all()
    },

    /** The parsed definition, or undefined for an unknown pipeline. */
    compiled(id: string): CompiledPipeline | undefined {
      let p = compiled.get(id)
      if (p === undefined) {
        const json = definitionOf.get(id)
        if (json === undefined) return undefined
        p = compilePipeline(v.parse(DefinitionSchema, JSON.parse(json)))
        compiled.set(id, p)
      }
      return p
    },

    /** After a rolled-back batch: a definition read inside it may belong to a pipeline that was never kept. */
    forgetCompiled(): void {
      compiled.clear()
    },

    setPaused(id: string, paused: boolean): PipelineRow {
      if (setPausedStmt.run(paused ? 1 : 0, id).changes === 0) throw new AppError('not_found', 404, 'Pipeline not found')
      return byId.get(id)!
    },
  }
}
