import * as assert from 'uvu/assert'
import type { Probe, Sql } from './sql.ts'

// A task whose stage its pipeline's definition marks terminal (definitions are JSON text on both drivers).
const TERMINAL = {
  sqlite: `EXISTS (SELECT 1 FROM pipelines p, json_each(p.definition_json, '$.states') s
    WHERE p.id = t.pipeline_id AND s.key = t.stage AND json_extract(s.value, '$.terminal') = 1)`,
  postgres: `EXISTS (SELECT 1 FROM pipelines p, jsonb_each(p.definition_json::jsonb -> 'states') s
    WHERE p.id = t.pipeline_id AND s.key = t.stage AND s.value -> 'terminal' = 'true'::jsonb)`,
}
const withTerminal = (text: (terminal: string) => string): Sql => ({ sqlite: text(TERMINAL.sqlite), postgres: text(TERMINAL.postgres) })

// PostgreSQL keeps each stage's count over 16 shard rows (schema.postgres.sql); SQLite, one row per stage.
const STAGE_COUNTS: Sql = {
  sqlite: 'SELECT stage, count FROM stage_counts WHERE count <> 0 ORDER BY stage',
  postgres: 'SELECT stage, sum(count)::bigint AS count FROM stage_counts GROUP BY stage HAVING sum(count) <> 0 ORDER BY stage',
}
const TASKS_BY_STAGE = 'SELECT stage, count(*) AS count FROM tasks GROUP BY stage ORDER BY stage'
const DOUBLE_RUNNING = "SELECT task_id FROM runs WHERE status = 'running' GROUP BY task_id HAVING count(*) > 1"
const FINISHED_BUT_RUNNING = withTerminal((terminal) => `SELECT t.id FROM tasks t JOIN runs r ON r.task_id = t.id AND r.status = 'running'
  WHERE ${terminal} OR t.dead_letter_reason IS NOT NULL`)
const FINISHED_BUT_CLAIMABLE = withTerminal((terminal) => `SELECT t.id FROM tasks t
  JOIN stage_roles sr ON sr.pipeline_id = t.pipeline_id AND sr.stage = t.stage WHERE ${terminal}`)

/**
 * What must hold in any Docket database, whatever happened to the process: the database's own checks, every
 * foreign key, the stage counters, and the lease rules (one running run per task; none on a finished task).
 */
export async function assertConsistent(s: Probe): Promise<void> {
  if (s.driver === 'sqlite') {
    assert.equal(await s.sql('PRAGMA integrity_check'), [{ integrity_check: 'ok' }])
    assert.equal(await s.sql('PRAGMA foreign_key_check'), [], 'foreign key violations')
  } else {
    await assertPostgresIntact(s)
  }
  assert.equal(await s.sql(STAGE_COUNTS), await s.sql(TASKS_BY_STAGE), 'stage_counts differ from the tasks')
  assert.equal(await s.sql(DOUBLE_RUNNING), [], 'tasks with two running runs')
  assert.equal(await s.sql(FINISHED_BUT_RUNNING), [], 'finished tasks with a running run')
  assert.equal(await s.sql(FINISHED_BUT_CLAIMABLE), [], 'tasks in a terminal stage that a role can claim')
}

/**
 * PostgreSQL's twin of integrity_check and foreign_key_check: amcheck (a contrib module the embedded server
 * ships) verifies every table's heap and every btree index against it, and each foreign key is re-checked
 * by an anti-join (PostgreSQL enforces them, unless one is NOT VALID or its triggers were bypassed).
 */
async function assertPostgresIntact(s: Probe): Promise<void> {
  // Its own schema, so the extension's functions never show among Docket's objects.
  await s.sql('CREATE SCHEMA IF NOT EXISTS docket_amcheck')
  await s.sql('CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA docket_amcheck')
  const heap = await s.sql(`SELECT c.relname, v.blkno, v.offnum, v.msg FROM pg_class c,
    docket_amcheck.verify_heapam(c.oid) v WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'`)
  assert.equal(heap, [], 'heap corruption')
  // bt_index_check raises on a problem; it returns void, so no row is ever selected. MATERIALIZED: the
  // planner would otherwise call it on relations the other conditions leave out.
  await s.sql(`WITH btree AS MATERIALIZED (SELECT c.oid FROM pg_class c JOIN pg_am am ON am.oid = c.relam
      WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'i' AND am.amname = 'btree')
    SELECT oid FROM btree WHERE docket_amcheck.bt_index_check(oid, true) IS NULL`)
  const keys = await s.sql(`SELECT con.conname, con.convalidated, con.conrelid::regclass::text AS child,
      con.confrelid::regclass::text AS parent,
      array(SELECT quote_ident(attname) FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
        JOIN pg_attribute ON attrelid = con.conrelid AND attnum = k.n ORDER BY k.i) AS child_columns,
      array(SELECT quote_ident(attname) FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
        JOIN pg_attribute ON attrelid = con.confrelid AND attnum = k.n ORDER BY k.i) AS parent_columns
    FROM pg_constraint con WHERE con.contype = 'f' AND con.connamespace = current_schema()::regnamespace ORDER BY con.conname`)
  assert.ok(keys.length > 0, 'no foreign keys found')
  for (const key of keys) {
    assert.ok(key.convalidated, `foreign key ${key.conname} is NOT VALID`)
    const matches = (key.child_columns as string[]).map((c, i) => `p.${key.parent_columns[i]} = c.${c}`).join(' AND ')
    const present = (key.child_columns as string[]).map((c) => `c.${c} IS NOT NULL`).join(' AND ')
    const orphans = await s.sql(`SELECT count(*) AS n FROM ${key.child} c
      WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${key.parent} p WHERE ${matches})`)
    assert.is(orphans[0].n, 0, `foreign key violations of ${key.conname}`)
  }
}
