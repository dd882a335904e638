// Artifacts. (PostgreSQL driver)
import type pg from 'pg'
import type { PgContext, TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'
import type { ArtifactRow } from '../types.ts'
import { statement } from './sql.ts'
import { timePages } from './time-pages.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import { newId } from '../../domain/ids.ts'

const COLUMNS = 'id, task_id, run_id, created_at_ms, kind, uri, sha256, size_bytes, meta_json'

// Tasks and runs are never deleted and a run never changes task, so what this finds still holds at commit.
const references = statement<{ has_task: boolean; run_task_id: string | null }>('artifacts_references', `
  SELECT EXISTS (SELECT 1 FROM tasks WHERE id = $1) AS has_task, (SELECT task_id FROM runs WHERE id = $2) AS run_task_id`)
const insert = statement('artifacts_insert', `
  INSERT INTO artifacts (id, task_id, run_id, created_at_ms, kind, uri, sha256, size_bytes, meta_json)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
const pages = timePages<ArtifactRow>('artifacts', COLUMNS, ['task_id', 'run_id'])

export function artifactsChanges(ctx: PgContext): Pick<TxChanges, 'createArtifact'> {
  void ctx
  return {
    async createArtifact(tx, a, nowMs) {
      const taskId = a.task_id ?? null
      const runId = a.run_id ?? null
      if (taskId !== null || runId !== null) {
        const found = (await references.one(tx, [taskId, runId]))!
        if (taskId !== null && !found.has_task) throw new AppError('task_not_found', 404, 'Task not found')
        if (runId !== null) {
          if (found.run_task_id === null) throw new AppError('run_not_found', 404, 'Run not found')
          if (taskId !== null && found.run_task_id !== taskId) throw validationError([{ path: 'run_id', message: 'run belongs to another task' }])
        }
      }
      const id = newId(nowMs)
      await insert.run(tx, [id, taskId, runId, nowMs, a.kind, a.uri, a.sha256 ?? null, a.size_bytes ?? null, JSON.stringify(a.meta ?? {})])
      return id
    },
  }
}

export function artifactsReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'artifacts'> {
  void ctx
  return {
    artifacts: (f) => pages(pool, { task_id: f.taskId, run_id: f.runId }, f.after, f.limit),
  }
}
