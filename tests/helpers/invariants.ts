import * as assert from 'uvu/assert'
import type { Db } from '../../src/store/sqlite/db.ts'

const TERMINAL = `EXISTS (SELECT 1 FROM pipelines p, json_each(p.definition_json, '$.states') s
  WHERE p.id = t.pipeline_id AND s.key = t.stage AND json_extract(s.value, '$.terminal') = 1)`

/**
 * What must hold in any Docket database, whatever happened to the process: SQLite's own checks, every
 * foreign key, the stage counters, and the lease rules (one running run per task; none on a finished task).
 */
export function assertConsistent(db: Db): void {
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  assert.equal(db.pragma('foreign_key_check'), [], 'foreign key violations')
  const counted = db.prepare('SELECT stage, count FROM stage_counts WHERE count <> 0 ORDER BY stage').all()
  const actual = db.prepare('SELECT stage, count(*) AS count FROM tasks GROUP BY stage ORDER BY stage').all()
  assert.equal(counted, actual, 'stage_counts differ from the tasks')
  const doubleRunning = db.prepare("SELECT task_id FROM runs WHERE status = 'running' GROUP BY task_id HAVING count(*) > 1").pluck().all()
  assert.equal(doubleRunning, [], 'tasks with two running runs')
  const finishedButRunning = db.prepare(`SELECT t.id FROM tasks t JOIN runs r ON r.task_id = t.id AND r.status = 'running'
    WHERE ${TERMINAL} OR t.dead_letter_reason IS NOT NULL`).pluck().all()
  assert.equal(finishedButRunning, [], 'finished tasks with a running run')
  const finishedButClaimable = db.prepare(`SELECT t.id FROM tasks t JOIN stage_roles sr ON sr.pipeline_id = t.pipeline_id AND sr.stage = t.stage
    WHERE ${TERMINAL}`).pluck().all()
  assert.equal(finishedButClaimable, [], 'tasks in a terminal stage that a role can claim')
}
