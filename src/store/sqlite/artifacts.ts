import type { Db } from './db.ts'
import { timePages } from './time-pages.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import { newId } from '../../domain/ids.ts'
import type { ArtifactFilter, ArtifactRow, NewArtifact } from '../types.ts'

export type ArtifactStore = ReturnType<typeof createArtifactStore>

export function createArtifactStore(db: Db) {
  const insert = db.prepare(`
    INSERT INTO artifacts (id, task_id, run_id, created_at_ms, kind, uri, sha256, size_bytes, meta_json)
    VALUES (@id, @task_id, @run_id, @now, @kind, @uri, @sha256, @size_bytes, @meta_json)`)
  const taskExists = db.prepare('SELECT 1 FROM tasks WHERE id = ?').pluck()
  const taskOfRun = db.prepare<[string], string>('SELECT task_id FROM runs WHERE id = ?').pluck()
  const pages = timePages<ArtifactRow>(db, 'artifacts')

  return {
    create(a: NewArtifact, nowMs: number): string {
      const taskId = a.task_id ?? null
      const runId = a.run_id ?? null
      if (taskId !== null && taskExists.get(taskId) === undefined) throw new AppError('task_not_found', 404, 'Task not found')
      if (runId !== null) {
        const owner = taskOfRun.get(runId)
        if (owner === undefined) throw new AppError('run_not_found', 404, 'Run not found')
        if (taskId !== null && owner !== taskId) throw validationError([{ path: 'run_id', message: 'run belongs to another task' }])
      }
      const id = newId(nowMs)
      insert.run({
        id, task_id: taskId, run_id: runId, now: nowMs, kind: a.kind, uri: a.uri, sha256: a.sha256 ?? null,
        size_bytes: a.size_bytes ?? null, meta_json: JSON.stringify(a.meta ?? {}),
      })
      return id
    },

    list(f: ArtifactFilter): ArtifactRow[] {
      return pages({ task_id: f.taskId, run_id: f.runId }, f.after, f.limit)
    },
  }
}
