// GET /tasks on PostgreSQL: the SQLite driver's filters and order (src/store/sqlite/task-pages.ts, whose
// comment says what each costs), with the same answers. `q` reads task_search (schema.postgres.sql): the
// words through its GIN index, as the store search does (search-vector.ts), plus the stale rows (vector
// not written since an update of the text), which are tested here with FTS5's tokens. Queries are unnamed,
// so each is planned for its own values (a tsquery's words, a status's rarity).
import type pg from 'pg'
import type { PgContext } from './context.ts'
import type { SearchRefresh } from './task-search-refresh.ts'
import { TASK_COLUMNS } from './tasks.ts'
import { fieldsMatch, searchPhrases, searchQuery } from './search-vector.ts'
import { valueSearchText } from './search-text.ts'
import { searchTerms } from '../../domain/search.ts'
import { stageKeysOf, type StageKeys, type TaskStatus } from '../../domain/task-status.ts'
import type { TaskFilter, TaskRow } from '../types.ts'

const OPEN = 't.dead_letter_reason IS NULL AND t.active_run_id IS NULL'
const TERMINAL = `(t.pipeline_id || ':' || t.stage) = ANY($terminal::text[])`
const ROLE = `(t.pipeline_id || ':' || t.stage) = ANY($claimable::text[])`
// domain/task-status.ts's rules (see the SQLite driver's); leased reads the index of held tasks (tasks_held), claimable repeats the
// claim index's condition. `$now`, `$terminal` and `$claimable` are numbered when used.
const STATUS: Record<TaskStatus, string> = {
  canceled: `t.dead_letter_reason = 'canceled'`,
  dead_lettered: `t.dead_letter_reason = 'max_attempts_exceeded'`,
  leased: 't.dead_letter_reason IS NULL AND t.active_run_id IS NOT NULL',
  done: `${OPEN} AND ${TERMINAL}`,
  blocked: `${OPEN} AND NOT ${TERMINAL} AND (t.open_dependencies > 0 OR NOT ${ROLE})`,
  delayed: `${OPEN} AND t.open_dependencies = 0 AND t.next_eligible_at_ms > $now AND ${ROLE}`,
  claimable: `${OPEN} AND t.open_dependencies = 0 AND t.next_eligible_at_ms <= $now AND ${ROLE}`,
}

/** Rows read at most at once when stale rows leave a page short. */
const MAX_BATCH = 10_000

type Where = { conds: string[]; params: unknown[]; phrases: string[][] | null }
type Row = TaskRow & { stale?: boolean }

export function createTaskPages(pool: pg.Pool, ctx: PgContext, refresh: SearchRefresh) {
  const columns = TASK_COLUMNS.split(', ').map((c) => `t.${c}`).join(', ')

  /** The stage keys of the filter's pipeline, or of all. */
  async function stageKeys(pipelineId: string | undefined): Promise<StageKeys> {
    const ids = pipelineId !== undefined
      ? [pipelineId]
      : (await pool.query<{ id: string }>('SELECT id FROM pipelines')).rows.map((r) => r.id)
    const compiled = await Promise.all(ids.map(async (id) => [id, await ctx.compiled(pool, id)] as const))
    return stageKeysOf(compiled.flatMap(([id, p]) => (p === undefined ? [] : [[id, p] as const])))
  }

  /** The filter's conditions (cursor apart) and its phrases when it searches, or null when it matches nothing. */
  async function whereOf(f: TaskFilter): Promise<Where | null> {
    const conds: string[] = []
    const params: unknown[] = []
    const bind = (value: unknown) => `$${params.push(value)}`
    if (f.stage !== undefined) conds.push(`t.stage = ${bind(f.stage)}`)
    if (f.pipelineId !== undefined) conds.push(`t.pipeline_id = ${bind(f.pipelineId)}`)
    if (f.assignee !== undefined) conds.push(`t.assignee = ${bind(f.assignee)}`)
    if (f.createdAfterMs !== undefined) conds.push(`t.created_at_ms > ${bind(f.createdAfterMs)}`)
    if (f.createdBeforeMs !== undefined) conds.push(`t.created_at_ms < ${bind(f.createdBeforeMs)}`)
    if (f.status !== undefined) {
      const rule = STATUS[f.status]
      const keys = /\$(terminal|claimable)\b/.test(rule) ? await stageKeys(f.pipelineId) : null
      const values = { now: f.nowMs ?? 0, terminal: keys?.terminal, claimable: keys?.claimable }
      // Each placeholder the rule uses is bound once.
      const bound = new Map<string, string>()
      conds.push(rule.replace(/\$(now|terminal|claimable)\b/g, (_, name: keyof typeof values) => {
        if (!bound.has(name)) bound.set(name, bind(values[name]))
        return bound.get(name)!
      }))
    }
    let phrases: string[][] | null = null
    if (f.q !== undefined) {
      const terms = searchTerms(f.q)
      const query = terms === null ? null : searchQuery(terms)
      if (query === null) return null // no term has a word: FTS5 matches nothing either
      phrases = searchPhrases(terms!)
      conds.push(`(s.search @@ ${bind(query)}::tsquery OR s.search IS NULL)`)
    }
    return { conds, params, phrases }
  }

  const fromOf = (w: Where) => (w.phrases === null ? 'tasks t' : 'tasks t JOIN task_search s ON s.task_id = t.id')
  const whereText = (conds: string[]) => (conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '')
  /** A stale row's text, tested as FTS5 would (the fresh ones passed the index). */
  const passes = (w: Where, r: { title: string; description: string; metadata_json: string }) =>
    fieldsMatch([r.title, r.description, valueSearchText(r.metadata_json) ?? ''], w.phrases!)

  return {
    /** limit + 1 rows in the filter's order after its cursor: the extra one only says there is more. */
    async list(f: TaskFilter): Promise<TaskRow[]> {
      const w = await whereOf(f)
      if (w === null) return []
      const dir = f.order === 'desc' ? 'DESC' : 'ASC'
      const cmp = dir === 'DESC' ? '<' : '>'
      const found: TaskRow[] = []
      let after = f.after
      let want = f.limit + 1
      let sawStale = false
      // Stale rows that fail their test leave a page short: read on after the last row read, in larger and
      // larger batches, until it is full.
      for (;;) {
        const params = [...w.params]
        const conds = [...w.conds]
        if (after !== null) conds.push(`(t.created_at_ms, t.id) ${cmp} ($${params.push(after.createdAtMs)}, $${params.push(after.id)})`)
        const stale = w.phrases === null ? '' : ', s.search IS NULL AS stale'
        const sql = `SELECT ${columns}${stale} FROM ${fromOf(w)} ${whereText(conds)}
          ORDER BY t.created_at_ms ${dir}, t.id ${dir} LIMIT $${params.push(want)}`
        const { rows } = await pool.query<Row>(sql, params)
        for (const { stale: isStale, ...row } of rows) {
          sawStale ||= isStale === true
          if (!isStale || passes(w, row)) found.push(row)
        }
        if (rows.length < want || found.length > f.limit) {
          if (sawStale) refresh.poke()
          return found.slice(0, f.limit + 1)
        }
        const last = rows[rows.length - 1]
        after = { createdAtMs: last.created_at_ms, id: last.id }
        want = Math.min(want * 2, MAX_BATCH)
      }
    },

    async count(f: TaskFilter): Promise<number> {
      const w = await whereOf(f)
      if (w === null) return 0
      if (w.phrases === null) {
        const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM tasks t ${whereText(w.conds)}`, w.params)
        return rows[0].n
      }
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${fromOf(w)} ${whereText(w.conds)} AND s.search IS NOT NULL`, w.params)
      const stale = await pool.query<{ title: string; description: string; metadata_json: string }>(
        `SELECT t.title, t.description, t.metadata_json FROM ${fromOf(w)} ${whereText(w.conds)} AND s.search IS NULL`, w.params)
      if (stale.rows.length > 0) refresh.poke()
      return rows[0].n + stale.rows.filter((r) => passes(w, r)).length
    },
  }
}
