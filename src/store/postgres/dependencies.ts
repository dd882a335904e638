// Dependency edges between tasks: added, removed and listed. (PostgreSQL driver)
//
// open_dependencies counts a task's upstream tasks whose stage is not terminal. A move of an upstream task
// into or out of a terminal stage shifts the counts of the dependents it finds when it commits; an edge
// written meanwhile must not be missed by it, nor counted twice. So every edit locks its upstream task row
// (FOR SHARE) before it reads that task's stage: a move either committed before (the locking read returns
// the moved row, and the edge is counted by what it reads) or waits until the edge is committed (and the
// move's count of dependents, a statement after its stage update, sees it).
import type pg from 'pg'
import type { Tx } from './tx.ts'
import type { PgContext } from './context.ts'
import { statement, type Sql } from './sql.ts'
import { AppError } from '../../domain/errors.ts'
import { isTerminalStage, type CompiledPipeline } from '../../domain/pipeline.ts'
import type { DependencyView } from '../types.ts'

// Key space of the dependency lock: the two-int4 form, apart from answers.ts's key locks, claim.ts's stage
// locks and the migration lock.
const DEPENDENCY_LOCK_SPACE = 0x646f6364

// One lock for every edge added, on every node. Two edges added at once that close a cycle together (a→b
// and b→a, or a→b and c→d over existing b→c and d→a) are each acyclic on their own: only a check that sees
// the other's committed edge catches it. A lock per task pair would not do (the second example shares no
// task), and a lock per connected component cannot be named before the edge joins two of them. Adds are
// rare API calls of a few milliseconds, so one lock costs little; creating tasks never takes it (nothing
// depends on a task being created, so its edges cannot close a cycle) and removals cannot make one.
// It is its own statement: under READ COMMITTED each statement reads a snapshot taken when it starts, so
// the check must start after the lock is granted to see the edge its previous holder committed.
const lockEdits = statement('dependencies_lock', `SELECT pg_advisory_xact_lock(${DEPENDENCY_LOCK_SPACE}, 0)`)

type Check = { has_task: boolean; up_pipeline_id: string | null; up_stage: string | null; has_edge: boolean; closes_cycle: boolean }

// Would `task` depending on `upstream` close a cycle? Only if `task` is already upstream of `upstream`.
const check = statement<Check>('dependencies_check', `
  WITH RECURSIVE up AS (
    SELECT pipeline_id, stage FROM tasks WHERE id = $2 FOR SHARE
  ), reach (id) AS (
    SELECT depends_on_task_id FROM task_dependencies WHERE task_id = $2
    UNION
    SELECT d.depends_on_task_id FROM task_dependencies d JOIN reach ON d.task_id = reach.id
  )
  SELECT EXISTS (SELECT 1 FROM tasks WHERE id = $1) AS has_task,
    (SELECT pipeline_id FROM up) AS up_pipeline_id, (SELECT stage FROM up) AS up_stage,
    EXISTS (SELECT 1 FROM task_dependencies WHERE task_id = $1 AND depends_on_task_id = $2) AS has_edge,
    EXISTS (SELECT 1 FROM reach WHERE id = $1) AS closes_cycle`)
const link = statement('dependencies_link', `
  WITH edge AS (INSERT INTO task_dependencies (task_id, depends_on_task_id, created_at_ms) VALUES ($1, $2, $3))
  UPDATE tasks SET open_dependencies = open_dependencies + 1 WHERE id = $1 AND $4::boolean`)
const unlink = statement<{ pipeline_id: string; stage: string }>('dependencies_unlink', `
  WITH up AS (SELECT pipeline_id, stage FROM tasks WHERE id = $2 FOR SHARE),
  gone AS (DELETE FROM task_dependencies WHERE task_id = $1 AND depends_on_task_id = $2 RETURNING 1)
  SELECT up.pipeline_id, up.stage FROM gone, up`)
const unblock = statement<{ open_dependencies: number }>('dependencies_unblock',
  'UPDATE tasks SET open_dependencies = open_dependencies - 1 WHERE id = $1 RETURNING open_dependencies')
const upstreamOf = statement<{ depends_on_task_id: string; pipeline_id: string; stage: string }>('dependencies_of', `
  SELECT d.depends_on_task_id, t.pipeline_id, t.stage
  FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_task_id
  WHERE d.task_id = $1 ORDER BY d.seq`)

type Place = { pipeline_id: string; stage: string }

/** The parsed pipelines of these ids, each looked up once (undefined: no such pipeline). */
export async function compiledOf(ctx: PgContext, db: Sql, ids: Iterable<string>): Promise<Map<string, CompiledPipeline | undefined>> {
  const distinct = [...new Set(ids)]
  return new Map(await Promise.all(distinct.map(async (id) => [id, await ctx.compiled(db, id)] as const)))
}

/** Whether a task in `stage` of its pipeline resolves the dependencies on it (a terminal stage does). */
export function isResolvedIn(pipelines: Map<string, CompiledPipeline | undefined>, place: Place): boolean {
  const pipeline = pipelines.get(place.pipeline_id)
  return pipeline !== undefined && isTerminalStage(pipeline, place.stage)
}

async function isResolved(ctx: PgContext, db: Sql, place: Place): Promise<boolean> {
  return isResolvedIn(await compiledOf(ctx, db, [place.pipeline_id]), place)
}

export async function addDependency(ctx: PgContext, tx: Tx, taskId: string, dependsOn: string, nowMs: number): Promise<void> {
  if (taskId === dependsOn) throw new AppError('invalid_dependency', 400, 'Task cannot depend on itself')
  await lockEdits.run(tx)
  const found = (await check.one(tx, [taskId, dependsOn]))!
  if (!found.has_task) throw new AppError('task_not_found', 404, 'Task not found')
  if (found.up_pipeline_id === null) throw new AppError('dependency_task_not_found', 404, 'Dependency task not found')
  if (found.has_edge) throw new AppError('duplicate_dependency', 409, 'Dependency already exists')
  if (found.closes_cycle) {
    throw new AppError('dependency_cycle', 400, `Task ${dependsOn} already depends on ${taskId}, directly or through other tasks`)
  }
  const resolved = await isResolved(ctx, tx, { pipeline_id: found.up_pipeline_id, stage: found.up_stage! })
  await link.run(tx, [taskId, dependsOn, nowMs, !resolved])
}

export async function removeDependency(ctx: PgContext, tx: Tx, taskId: string, dependsOn: string): Promise<void> {
  const upstream = await unlink.one(tx, [taskId, dependsOn])
  if (upstream === undefined) throw new AppError('not_found', 404, 'Dependency not found')
  if (await isResolved(ctx, tx, upstream)) return
  const task = await unblock.one(tx, [taskId])
  // Its last open dependency gone, the task may be claimable: other nodes' waiters re-check.
  if (task?.open_dependencies === 0) ctx.wake(tx)
}

export async function listDependencies(ctx: PgContext, pool: pg.Pool, taskId: string): Promise<DependencyView[]> {
  const rows = await upstreamOf.all(pool, [taskId])
  const pipelines = await compiledOf(ctx, pool, rows.map((row) => row.pipeline_id))
  return rows.map((row) => ({ depends_on_task_id: row.depends_on_task_id, resolved: isResolvedIn(pipelines, row) }))
}
