// Reads of the task lifecycle routes: tasks by ids (waiters), bulk filters, a gate's queue.
import type { Db } from './db.ts'
import type { BulkFilter, TaskRow, TimeCursor } from '../types.ts'

type Match = { id: string; created_at_ms: number }

const STATUS_SQL: Record<string, string> = {
  dead_lettered: "dead_letter_reason IS NOT NULL AND dead_letter_reason <> 'canceled'",
  canceled: "dead_letter_reason = 'canceled'",
  leased: 'dead_letter_reason IS NULL AND active_run_id IS NOT NULL',
  blocked: 'dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies > 0',
}

export function createTaskLookups(db: Db) {
  const byIds = db.prepare<[string], TaskRow>('SELECT * FROM tasks WHERE id IN (SELECT value FROM json_each(?))')
  const waiting = db.prepare<[string, string], number>(
    'SELECT count(*) FROM tasks WHERE stage = +? AND pipeline_id = +? AND dead_letter_reason IS NULL',
  ).pluck()
  // One statement per combination of filter fields, prepared on first use.
  const matchStatements = new Map<string, ReturnType<typeof db.prepare<Record<string, unknown>, Match>>>()

  return {
    byIds(ids: readonly string[]): TaskRow[] {
      return ids.length === 0 ? [] : byIds.all(JSON.stringify(ids))
    },

    waitingAt(pipelineId: string, stage: string): number {
      return waiting.get(stage, pipelineId) as number
    },

    /** Keyset pages in (created_at_ms, id) order: a task changed by one batch is never matched again. */
    match(f: BulkFilter, after: TimeCursor | null, limit: number): Match[] {
      const conds: string[] = []
      const params: Record<string, unknown> = { limit }
      if (f.pipeline_id !== undefined) { conds.push('pipeline_id = +@pipeline_id'); params.pipeline_id = f.pipeline_id }
      if (f.stage !== undefined) { conds.push('stage = +@stage'); params.stage = f.stage }
      if (f.status !== undefined) conds.push(STATUS_SQL[f.status])
      if (f.dead_letter_reason !== undefined) { conds.push('dead_letter_reason = +@reason'); params.reason = f.dead_letter_reason }
      if (f.created_before_ms !== undefined) { conds.push('created_at_ms < +@before'); params.before = f.created_before_ms }
      if (after !== null) {
        conds.push('(created_at_ms > +@after_ms OR (created_at_ms = +@after_ms AND id > +@after_id))')
        Object.assign(params, { after_ms: after.createdAtMs, after_id: after.id })
      }
      const where = conds.join(' AND ')
      let stmt = matchStatements.get(where)
      if (stmt === undefined) {
        stmt = db.prepare(`SELECT id, created_at_ms FROM tasks WHERE ${where} ORDER BY created_at_ms, id LIMIT +@limit`)
        matchStatements.set(where, stmt)
      }
      return stmt.all(params)
    },
  }
}
