// GET /tasks: pages and counts of tasks by any mix of filters (TaskFilter), in (created_at_ms, id) order
// either way. One statement per shape of filter, prepared on first use (the shapes are few: a condition is
// present or not). What each filter costs (README: Finding tasks): stage, pipeline and the created bounds walk
// an index in page order; canceled and dead_lettered read the partial index of dead letters, leased the live
// leases' index; `q` reads the FTS5 index (tasks_fts, kept by triggers: schema.sql); the rest scan.
import type { Db } from './db.ts'
import type { PipelineStore } from './pipelines.ts'
import type { TaskFilter, TaskRow } from '../types.ts'
import { ftsQuery, searchTerms } from '../../domain/search.ts'
import { tokensOf } from '../../domain/fts5-tokens.ts'
import { stageKeysOf, type StageKeys, type TaskStatus } from '../../domain/task-status.ts'

// The rules of domain/task-status.ts as conditions on `t`, given the keys of terminal stages and of the stages
// a role claims from (stage_roles' own rule). The claimable one repeats the claim index's own condition
// (tasks_claimable), so the planner may read that index.
const OPEN = 't.dead_letter_reason IS NULL AND t.active_run_id IS NULL'
const KEY = `t.pipeline_id || ':' || t.stage`
const TERMINAL = `${KEY} IN (SELECT value FROM json_each(@terminal))`
const ROLE = `${KEY} IN (SELECT value FROM json_each(@claimable))`
const STATUS: Record<TaskStatus, string> = {
  canceled: `t.dead_letter_reason = 'canceled'`,
  dead_lettered: `t.dead_letter_reason = 'max_attempts_exceeded'`,
  // Exactly the tasks whose run holds a live lease: found from the live leases' index, not by a scan.
  leased: 't.dead_letter_reason IS NULL AND t.active_run_id IS NOT NULL AND t.id IN (SELECT task_id FROM runs WHERE lease_expires_at_ms IS NOT NULL)',
  done: `${OPEN} AND ${TERMINAL}`,
  blocked: `${OPEN} AND NOT ${TERMINAL} AND (t.open_dependencies > 0 OR NOT ${ROLE})`,
  delayed: `${OPEN} AND t.open_dependencies = 0 AND t.next_eligible_at_ms > @now AND ${ROLE}`,
  claimable: `${OPEN} AND t.open_dependencies = 0 AND t.next_eligible_at_ms <= @now AND ${ROLE}`,
}

type Where = { sql: string; params: Record<string, unknown> }

export function createTaskPages(db: Db, pipelines: PipelineStore) {
  const statements = new Map<string, ReturnType<typeof db.prepare<Record<string, unknown>, unknown>>>()
  function prepared(sql: string) {
    let stmt = statements.get(sql)
    if (stmt === undefined) {
      stmt = db.prepare(sql)
      statements.set(sql, stmt)
    }
    return stmt
  }

  /** The stage keys of the filter's pipeline, or of all. */
  function stageKeys(pipelineId: string | undefined): StageKeys {
    const ids = pipelineId !== undefined ? [pipelineId] : pipelines.list().map((p) => p.id)
    return stageKeysOf(ids.flatMap((id) => {
      const p = pipelines.compiled(id)
      return p === undefined ? [] : [[id, p] as const]
    }))
  }

  /** The filter's conditions (cursor apart), or null when it can match nothing. */
  function whereOf(f: TaskFilter): Where | null {
    const conds: string[] = []
    const params: Record<string, unknown> = {}
    const add = (sql: string, name: string, value: unknown) => {
      conds.push(sql)
      params[name] = value
    }
    if (f.stage !== undefined) add('t.stage = @stage', 'stage', f.stage)
    if (f.pipelineId !== undefined) add('t.pipeline_id = @pipeline_id', 'pipeline_id', f.pipelineId)
    if (f.assignee !== undefined) add('t.assignee = @assignee', 'assignee', f.assignee)
    if (f.createdAfterMs !== undefined) add('t.created_at_ms > @created_after', 'created_after', f.createdAfterMs)
    if (f.createdBeforeMs !== undefined) add('t.created_at_ms < @created_before', 'created_before', f.createdBeforeMs)
    if (f.status !== undefined) {
      const rule = STATUS[f.status]
      conds.push(rule)
      if (rule.includes('@now')) params.now = f.nowMs ?? 0
      if (rule.includes('@terminal') || rule.includes('@claimable')) {
        const keys = stageKeys(f.pipelineId)
        if (rule.includes('@terminal')) params.terminal = JSON.stringify(keys.terminal)
        if (rule.includes('@claimable')) params.claimable = JSON.stringify(keys.claimable)
      }
    }
    if (f.q !== undefined) {
      const terms = searchTerms(f.q)
      // A term without a word is left out, as FTS5 leaves out an empty phrase; with none left, nothing matches.
      if (terms === null || !terms.some((t) => tokensOf(t).length > 0)) return null
      add('t.id IN (SELECT s.task_id FROM tasks_fts JOIN task_search_ids s ON s.n = tasks_fts.rowid WHERE tasks_fts MATCH @match)',
        'match', ftsQuery(terms))
    }
    return { sql: conds.join(' AND '), params }
  }

  return {
    /** limit + 1 rows in the filter's order after its cursor: the extra one only says there is more. */
    list(f: TaskFilter): TaskRow[] {
      const where = whereOf(f)
      if (where === null) return []
      const conds = where.sql === '' ? [] : [where.sql]
      const dir = f.order === 'desc' ? 'DESC' : 'ASC'
      const params: Record<string, unknown> = { ...where.params, limit: f.limit + 1 }
      if (f.after !== null) {
        const cmp = dir === 'DESC' ? '<' : '>'
        conds.push(`(t.created_at_ms ${cmp} @after_ms OR (t.created_at_ms = @after_ms AND t.id ${cmp} @after_id))`)
        Object.assign(params, { after_ms: f.after.createdAtMs, after_id: f.after.id })
      }
      const sql = `SELECT t.* FROM tasks t ${conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : ''}
        ORDER BY t.created_at_ms ${dir}, t.id ${dir} LIMIT @limit`
      return prepared(sql).all(params) as TaskRow[]
    },

    count(f: TaskFilter): number {
      const where = whereOf(f)
      if (where === null) return 0
      const sql = `SELECT count(*) FROM tasks t ${where.sql === '' ? '' : `WHERE ${where.sql}`}`
      return prepared(sql).pluck().get(where.params) as number
    },
  }
}
