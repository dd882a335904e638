// Rows written straight into a migrated PostgreSQL database, for tests of driver pieces that come before the
// driver's own create operations.
import type pg from 'pg'
import { newId } from '../../../src/domain/ids.ts'

export type TaskSeed = { priority?: number; createdAtMs?: number; assignee?: string | null; nextEligibleAtMs?: number }

/**
 * A pipeline whose `stages` are claimable by `role`; returns its id. Its definition is `{}` unless given
 * (a change that reads the compiled pipeline needs a real one: see chainDefinition).
 */
export async function seedPipeline(pool: pg.Pool, role: string, stages: string[], options: { paused?: boolean; definition?: unknown } = {}): Promise<string> {
  const id = newId(1)
  await pool.query('INSERT INTO pipelines (id, name, definition_json, paused, created_at_ms) VALUES ($1, $2, $3, $4, 1)',
    [id, `p-${id}`, JSON.stringify(options.definition ?? {}), options.paused ?? false])
  for (const stage of stages) await pool.query('INSERT INTO stage_roles (agent_role, pipeline_id, stage) VALUES ($1, $2, $3)', [role, id, stage])
  return id
}

/** `n` tasks in one statement (ids in creation order); returns their ids. */
export async function seedTasks(pool: pg.Pool, pipelineId: string, stage: string, n: number, seed: TaskSeed = {}): Promise<string[]> {
  const createdAtMs = seed.createdAtMs ?? 1000
  const ids = Array.from({ length: n }, () => newId(createdAtMs))
  await pool.query(`
    INSERT INTO tasks (id, pipeline_id, stage, title, description, priority, metadata_json, task_version,
      next_eligible_at_ms, retry_delay_ms, assignee, created_at_ms, updated_at_ms)
    SELECT id, $2, $3, 'title', 'description', $4, '{}', 1, $5, 0, $6, $7, $7 FROM unnest($1::text[]) id`,
  [ids, pipelineId, stage, seed.priority ?? 0, seed.nextEligibleAtMs ?? 0, seed.assignee ?? null, createdAtMs])
  return ids
}

/** A definition whose `stages` follow one another (trigger `next`) into a terminal stage `done`, all worked by `role`. */
export function chainDefinition(role: string, stages: string[]): unknown {
  const order = [...stages, 'done']
  return {
    initial: stages[0],
    states: Object.fromEntries(order.map((s) => [s, s === 'done' ? { terminal: true } : { agent_role: role }])),
    transitions: stages.map((s, i) => ({ from: s, to: order[i + 1], trigger: 'next' })),
  }
}
