import type { Db } from './db.ts'
import type { PipelineStore } from './pipelines.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import { isTerminalStage, type CompiledPipeline } from '../../domain/pipeline.ts'
import { newId } from '../../domain/ids.ts'
import type { NewTask, TaskRow } from '../types.ts'

export type TaskStore = ReturnType<typeof createTaskStore>

export function createTaskStore(db: Db, pipelines: PipelineStore, onEligibleAt: (atMs: number) => void) {
  const insert = db.prepare(`
    INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version,
      next_eligible_at_ms, max_attempts, retry_delay_ms, dead_letter_stage, created_at_ms, updated_at_ms)
    VALUES (@id, @pipeline_id, @stage, @title, @description, @priority, @metadata_json, 1,
      @next_eligible_at_ms, @max_attempts, @retry_delay_ms, @dead_letter_stage, @now, @now)`)
  const byId = db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id = ?')
  const placeOf = db.prepare<[string], { pipeline_id: string; stage: string }>('SELECT pipeline_id, stage FROM tasks WHERE id = ?')
  const shiftDependents = db.prepare(`
    UPDATE tasks SET open_dependencies = open_dependencies + @delta
    WHERE id IN (SELECT task_id FROM task_dependencies WHERE depends_on_task_id = +@id)`)
  const moveStmt = db.prepare(`
    UPDATE tasks SET stage = @stage, task_version = task_version + @bump, updated_at_ms = @now WHERE id = @id`)

  const advanceStmt = db.prepare(`
    UPDATE tasks SET stage = @stage, task_version = task_version + 1, dead_letter_reason = NULL,
      next_eligible_at_ms = 0, active_run_id = NULL, updated_at_ms = @now
    WHERE id = @id`)

  /**
   * When a move flips whether the task's stage is terminal, every task depending on it gains or loses one
   * open dependency, which is what the claim index filters on.
   */
  function resolveDependents(task: TaskRow, to: string): void {
    const pipeline = store.pipelineOf(task)
    const wasTerminal = isTerminalStage(pipeline, task.stage)
    const isTerminal = isTerminalStage(pipeline, to)
    if (wasTerminal !== isTerminal) shiftDependents.run({ id: task.id, delta: isTerminal ? -1 : 1 })
  }

  const store = {
    get(id: string): TaskRow | undefined {
      return byId.get(id)
    },

    require(id: string, code = 'not_found', message = 'Task not found'): TaskRow {
      const row = byId.get(id)
      if (row === undefined) throw new AppError(code, 404, message)
      return row
    },

    pipelineOf(task: TaskRow): CompiledPipeline {
      return pipelines.compiled(task.pipeline_id)!
    },

    /** Whether the task's current stage is terminal in its own pipeline (what resolves a dependency on it). */
    isResolved(id: string): boolean {
      const place = placeOf.get(id)
      return place !== undefined && isTerminalStage(pipelines.compiled(place.pipeline_id)!, place.stage)
    },

    /** Creates one task (its dependencies are added by the dependency store, in the caller's transaction). */
    create(t: NewTask, nowMs: number): string {
      const pipeline = pipelines.compiled(t.pipeline_id)
      if (pipeline === undefined) throw fieldError('pipeline_not_found', 'Pipeline not found', 'pipeline_id')
      const policy = t.retry_policy ?? {}
      if (policy.dead_letter_stage != null && !pipeline.stages.has(policy.dead_letter_stage)) {
        throw validationError([{ path: 'retry_policy.dead_letter_stage', message: `names no stage of the pipeline: ${policy.dead_letter_stage}` }])
      }
      const id = newId(nowMs)
      insert.run({
        id,
        pipeline_id: t.pipeline_id,
        stage: pipeline.initial,
        title: t.title,
        description: t.description,
        priority: t.priority ?? 0,
        metadata_json: JSON.stringify(t.metadata ?? {}),
        next_eligible_at_ms: t.not_before_ms ?? 0,
        max_attempts: policy.max_attempts ?? null,
        retry_delay_ms: policy.retry_delay_ms ?? 0,
        dead_letter_stage: policy.dead_letter_stage ?? null,
        now: nowMs,
      })
      if (t.not_before_ms != null) onEligibleAt(t.not_before_ms)
      return id
    },

    /** Moves a task to another stage of its pipeline (dead letter, requeue). */
    moveStage(task: TaskRow, to: string, bumpVersion: boolean, nowMs: number): void {
      moveStmt.run({ id: task.id, stage: to, bump: bumpVersion ? 1 : 0, now: nowMs })
      resolveDependents(task, to)
    },

    /** A completed run's transition: next stage, next version, eligible now, no lease, no dead letter. */
    advance(task: TaskRow, to: string, nowMs: number): void {
      advanceStmt.run({ id: task.id, stage: to, now: nowMs })
      resolveDependents(task, to)
    },
  }
  return store
}

function fieldError(code: string, message: string, path: string): AppError {
  return new AppError(code, 404, message, [{ path, message }])
}
