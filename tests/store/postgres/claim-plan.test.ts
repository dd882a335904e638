import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { migratedDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { CLAIM_SQL } from '../../../src/store/postgres/claim.ts'
import { seedPipeline, seedTasks } from './fixtures.ts'

// The claim's plan must stay one ordered search of tasks_claimable per (pipeline, stage), under the row lock
// and the LIMIT: never a scan or a sort of the queue. It is held with statistics that match the table and
// with statistics taken while it was empty (pg-boss's fetch fell to a fifth of its rate that way: its plan
// scanned and sorted the whole queue), for the plan PostgreSQL makes for the values given and for the
// generic one it switches a prepared statement to.
type Ctx = { pool: pg.Pool }
const test = suite<Ctx>('postgres claim plan', {} as Ctx)
const ROLE = 'planner'

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; 'Index Name'?: string; 'Index Cond'?: string; Plans?: PlanNode[] }

test.before(async (ctx) => {
  ctx.pool = createPool(await migratedDatabase(), { size: 1 })
  await ctx.pool.query('ALTER TABLE tasks SET (autovacuum_enabled = off); ALTER TABLE runs SET (autovacuum_enabled = off)')
})
test.after(async (ctx) => {
  await ctx.pool.end()
})

/** Plans of CLAIM_SQL for a role that claims from two stages of two pipelines, custom and generic. */
async function plans(pool: pg.Pool): Promise<Record<string, PlanNode>> {
  const client = await pool.connect()
  try {
    await client.query(`PREPARE claim AS ${CLAIM_SQL}`)
    const out: Record<string, PlanNode> = {}
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      await client.query(`SET plan_cache_mode = ${mode}`)
      const { rows } = await client.query(`EXPLAIN (FORMAT JSON) EXECUTE claim('${ROLE}', 'agent', 5000, 'run', '\\x00', 30000, '{a}', '{2}', true, NULL)`)
      out[mode] = JSON.parse(rows[0]['QUERY PLAN'])[0].Plan // json is read as its text (connect.ts)
    }
    return out
  } finally {
    await client.query('DEALLOCATE ALL; RESET plan_cache_mode')
    client.release()
  }
}

/**
 * Fails unless every read of tasks and runs is an index search, and tasks_claimable's is a search by
 * (pipeline, stage) right under the row lock and the LIMIT 1 (no sort between: the index gives the order).
 */
function assertIndexedClaim(plan: PlanNode, label: string): void {
  const claimScans: PlanNode[][] = []
  const walk = (node: PlanNode, ancestors: PlanNode[]) => {
    const where = `${label}: ${node['Node Type']} on ${node['Relation Name']}`
    if (node['Relation Name'] === 'tasks' || node['Relation Name'] === 'runs') {
      assert.ok(/^(Index (Only )?Scan( Backward)?|ModifyTable)$/.test(node['Node Type']), where)
    }
    if (node['Index Name'] === 'tasks_claimable') {
      assert.match(node['Index Cond'] ?? '', /pipeline_id = .*stage = /, `${label}: ${node['Index Cond']}`)
      claimScans.push(ancestors)
    }
    for (const child of node.Plans ?? []) walk(child, [node, ...ancestors])
  }
  walk(plan, [])
  assert.is(claimScans.length, 1, `${label}: ${JSON.stringify(plan)}`)
  assert.equal(claimScans[0].slice(0, 2).map((n) => n['Node Type']), ['LockRows', 'Limit'], label)
}

/**
 * A queue like a real one: per claimable (pipeline, stage) 2,000 tasks, of which a few are leased and most
 * are blocked; beside them many finished tasks (in a stage nobody claims) with their ended runs.
 */
async function seedQueue(pool: pg.Pool): Promise<void> {
  for (const stages of [['a', 'b'], ['a']]) {
    const p = await seedPipeline(pool, ROLE, stages)
    await seedPipeline(pool, 'someone else', stages)
    for (const stage of stages) {
      const ids = await seedTasks(pool, p, stage, 2_000)
      await pool.query('UPDATE tasks SET open_dependencies = 1 WHERE id = ANY($1)', [ids.slice(0, 1_500)])
      await leaseAll(pool, ids.slice(1_500, 1_550), { live: true })
    }
    await leaseAll(pool, await seedTasks(pool, p, 'done', 5_000), { live: false })
  }
}

/** A run for each task: live (the task held) or ended. */
async function leaseAll(pool: pg.Pool, taskIds: string[], { live }: { live: boolean }): Promise<void> {
  await pool.query(`
    INSERT INTO runs (id, task_id, attempt, status, agent_id, agent_role, started_at_ms, lease_token_hash, lease_ttl_ms, lease_expires_at_ms)
    SELECT 'run-' || id, id, 1, $2, 'agent', $3, 1, '\\x00', 30000, $4 FROM unnest($1::text[]) id`,
  [taskIds, live ? 'running' : 'completed', ROLE, live ? 1e12 : null])
  if (live) await pool.query(`UPDATE tasks SET active_run_id = 'run-' || id WHERE id = ANY($1)`, [taskIds])
}

test('claims search tasks_claimable in order with stale statistics (taken while the queue was empty)', async ({ pool }) => {
  await pool.query('ANALYZE')
  await seedQueue(pool)
  for (const [mode, plan] of Object.entries(await plans(pool))) assertIndexedClaim(plan, `stale, ${mode}`)
})

test('claims search tasks_claimable in order with fresh statistics', async ({ pool }) => {
  await pool.query('ANALYZE')
  for (const [mode, plan] of Object.entries(await plans(pool))) assertIndexedClaim(plan, `fresh, ${mode}`)
})

test.run()
