// Tasks, their dependency edges and assignments. (PostgreSQL driver)
import type pg from 'pg'
import type { Tx } from './tx.ts'
import type { PgContext, TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'
import type { NewTask, TaskRow } from '../types.ts'
import { statement } from './sql.ts'
import { addDependency, compiledOf, isResolvedIn, listDependencies, removeDependency } from './dependencies.ts'
import { assign, listAssignments, unassign } from './assignments.ts'
import { AppError, TaskItemError, validationError } from '../../domain/errors.ts'
import type { CompiledPipeline } from '../../domain/pipeline.ts'
import { newId } from '../../domain/ids.ts'
import { taskVector } from './search-vector.ts'
import { createTaskPages } from './task-pages.ts'
import type { SearchRefresh } from './task-search-refresh.ts'

/** TaskRow's columns, in its order (int8 columns read as numbers: connect.ts). */
export const TASK_COLUMNS = 'id, pipeline_id, stage, title, description, priority, metadata_json, task_version, next_eligible_at_ms, ' +
  'max_attempts, retry_delay_ms, dead_letter_stage, dead_letter_reason, failed_attempts, open_dependencies, assignee, ' +
  'active_run_id, created_at_ms, updated_at_ms'

// A whole create, however many tasks, in one statement: the tasks, their edges and their assignments, each
// from arrays (one element per row). The edges' and assignments' foreign keys are checked at the end of the
// statement, when the tasks are there. Edges are inserted in the order given: seq is the list order. Each
// task's search vector (schema.postgres.sql: task_search) goes with it.
const insert = statement('tasks_insert', `
  WITH created AS (
    INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version,
      next_eligible_at_ms, max_attempts, retry_delay_ms, dead_letter_stage, open_dependencies, assignee,
      created_at_ms, updated_at_ms)
    SELECT t.id, t.pipeline_id, t.stage, t.title, t.description, t.priority, t.metadata_json, 1,
      t.next_eligible_at_ms, t.max_attempts, t.retry_delay_ms, t.dead_letter_stage, t.open_dependencies, t.assignee, $1, $1
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::bigint[],
      $10::bigint[], $11::bigint[], $12::text[], $13::bigint[], $14::text[])
      AS t (id, pipeline_id, stage, title, description, priority, metadata_json, next_eligible_at_ms,
        max_attempts, retry_delay_ms, dead_letter_stage, open_dependencies, assignee)
  ), edges AS (
    INSERT INTO task_dependencies (task_id, depends_on_task_id, created_at_ms)
    SELECT e.task_id, e.depends_on_task_id, $1
    FROM unnest($15::text[], $16::text[]) WITH ORDINALITY AS e (task_id, depends_on_task_id, n) ORDER BY e.n
  ), searched AS (
    INSERT INTO task_search (task_id, search) SELECT * FROM unnest($2::text[], $20::tsvector[])
  )
  INSERT INTO task_assignments (task_id, agent_id, assigned_by, active, created_at_ms, updated_at_ms)
  SELECT a.task_id, a.agent_id, a.assigned_by, true, $1, $1
  FROM unnest($17::text[], $18::text[], $19::text[]) AS a (task_id, agent_id, assigned_by)`)

// Upstream tasks of a create, locked until it commits (see dependencies.ts: a move of one of them into a
// terminal stage must either come first or count the new edges); in id order, as every create locks them.
const upstreamOf = statement<{ id: string; pipeline_id: string; stage: string }>('tasks_upstream',
  'SELECT id, pipeline_id, stage FROM tasks WHERE id = ANY($1::text[]) ORDER BY id FOR SHARE')
const byId = statement<TaskRow>('tasks_by_id', `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`)

/** One task as inserted. */
type Created = {
  id: string
  task: NewTask
  stage: string
  nextEligibleAtMs: number
  openDependencies: number
}

type Found = {
  pipelines: Map<string, CompiledPipeline | undefined>
  /** Upstream tasks that exist, and whether each resolves its dependents already. */
  upstream: Map<string, boolean>
}

/** The same checks, in the same order, with the same answers, as SQLite's tasks.create and dependencies.addAtCreate. */
function checkTask(t: NewTask, found: Found, nowMs: number): Created {
  const pipeline = found.pipelines.get(t.pipeline_id)
  if (pipeline === undefined) {
    throw new AppError('pipeline_not_found', 404, 'Pipeline not found', [{ path: 'pipeline_id', message: 'Pipeline not found' }])
  }
  const deadLetterStage = t.retry_policy?.dead_letter_stage
  if (deadLetterStage != null && !pipeline.stages.has(deadLetterStage)) {
    throw validationError([{ path: 'retry_policy.dead_letter_stage', message: `names no stage of the pipeline: ${deadLetterStage}` }])
  }
  const seen = new Set<string>()
  let open = 0
  for (const [i, dep] of (t.dependencies ?? []).entries()) {
    const path = `dependencies[${i}]`
    if (seen.has(dep)) throw new AppError('duplicate_dependency', 409, 'Dependency already exists', [{ path, message: 'listed twice' }])
    seen.add(dep)
    const isResolved = found.upstream.get(dep)
    if (isResolved === undefined) throw new AppError('task_not_found', 404, 'Dependency task not found', [{ path, message: 'Dependency task not found' }])
    if (!isResolved) open += 1
  }
  return { id: newId(nowMs), task: t, stage: pipeline.initial, nextEligibleAtMs: t.not_before_ms ?? 0, openDependencies: open }
}

/** What every item of a create refers to: its pipeline and its upstream tasks (locked), each read once. */
async function findReferences(ctx: PgContext, tx: Tx, tasks: readonly NewTask[]): Promise<Found> {
  const deps = [...new Set(tasks.flatMap((t) => t.dependencies ?? []))]
  const upstream = deps.length === 0 ? [] : await upstreamOf.all(tx, [deps])
  const pipelines = await compiledOf(ctx, tx, [...tasks.map((t) => t.pipeline_id), ...upstream.map((u) => u.pipeline_id)])
  return { pipelines, upstream: new Map(upstream.map((u) => [u.id, isResolvedIn(pipelines, u)])) }
}

function insertParams(created: Created[], nowMs: number): unknown[] {
  const column = <T>(f: (c: Created) => T) => created.map(f)
  const edges = created.flatMap((c) => (c.task.dependencies ?? []).map((dep) => [c.id, dep]))
  const assigned = created.filter((c) => c.task.assigned_agent_id != null)
  return [
    nowMs,
    column((c) => c.id),
    column((c) => c.task.pipeline_id),
    column((c) => c.stage),
    column((c) => c.task.title),
    column((c) => c.task.description),
    column((c) => c.task.priority ?? 0),
    column((c) => JSON.stringify(c.task.metadata ?? {})),
    column((c) => c.nextEligibleAtMs),
    column((c) => c.task.retry_policy?.max_attempts ?? null),
    column((c) => c.task.retry_policy?.retry_delay_ms ?? 0),
    column((c) => c.task.retry_policy?.dead_letter_stage ?? null),
    column((c) => c.openDependencies),
    column((c) => c.task.assigned_agent_id ?? null),
    edges.map(([taskId]) => taskId),
    edges.map(([, dep]) => dep),
    assigned.map((c) => c.id),
    assigned.map((c) => c.task.assigned_agent_id),
    assigned.map((c) => c.task.assigned_by ?? null),
    column((c) => taskVector(c.task.title, c.task.description, JSON.stringify(c.task.metadata ?? {}))),
  ]
}

/**
 * All or nothing: every item is checked (a failing one throws TaskItemError naming it) before the one
 * statement that writes them all. Waiters on every node hear of work claimable now, and of each later
 * not_before_ms.
 */
export async function createTasks(ctx: PgContext, tx: Tx, tasks: readonly NewTask[], nowMs: number): Promise<string[]> {
  const found = await findReferences(ctx, tx, tasks)
  const created = tasks.map((t, i) => {
    try {
      return checkTask(t, found, nowMs)
    } catch (err) {
      throw err instanceof AppError ? new TaskItemError(i, err) : err
    }
  })
  await insert.run(tx, insertParams(created, nowMs))
  if (created.some((c) => c.openDependencies === 0 && c.nextEligibleAtMs <= nowMs)) ctx.wake(tx)
  for (const atMs of new Set(created.map((c) => c.nextEligibleAtMs).filter((atMs) => atMs > nowMs))) ctx.wake(tx, atMs)
  return created.map((c) => c.id)
}

export function tasksChanges(ctx: PgContext): Pick<TxChanges, 'createTasks' | 'addDependency' | 'removeDependency' | 'assign' | 'unassign'> {
  return {
    createTasks: (tx, tasks, nowMs) => createTasks(ctx, tx, tasks, nowMs),
    addDependency: (tx, taskId, dependsOn, nowMs) => addDependency(ctx, tx, taskId, dependsOn, nowMs),
    removeDependency: (tx, taskId, dependsOn) => removeDependency(ctx, tx, taskId, dependsOn),
    assign: (tx, taskId, agentId, assignedBy, nowMs) => assign(ctx, tx, taskId, agentId, assignedBy, nowMs),
    unassign: (tx, taskId, agentId, nowMs) => unassign(ctx, tx, taskId, agentId, nowMs),
  }
}

export function tasksReads(pool: pg.Pool, ctx: PgContext, refresh: SearchRefresh): Pick<Reads, 'task' | 'tasks' | 'countTasks' | 'dependencies' | 'assignments'> {
  const pages = createTaskPages(pool, ctx, refresh)
  return {
    task: (id) => byId.one(pool, [id]),
    tasks: (f) => pages.list(f),
    countTasks: (f) => pages.count(f),
    dependencies: (taskId) => listDependencies(ctx, pool, taskId),
    assignments: (taskId) => listAssignments(pool, taskId),
  }
}
