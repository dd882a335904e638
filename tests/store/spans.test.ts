import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { openDb } from '../../src/store/sqlite/db.ts'

const test = suite('spans store')

// The list statement of src/store/sqlite/spans.ts for each filter, and the span_count probe.
const LIST = 'SELECT s.id FROM spans s JOIN otlp_resources r ON r.id = s.resource_id WHERE s.id > 0 AND '
const QUERIES: Array<[string, string, RegExp]> = [
  ['run filter', `${LIST}run_id = ? ORDER BY s.id LIMIT 10`, /USING INDEX spans_by_run \(run_id=\? AND id>\?\)/],
  ['task filter', `${LIST}task_id = ? ORDER BY s.id LIMIT 10`, /USING INDEX spans_by_task \(task_id=\? AND id>\?\)/],
  ['trace filter', `${LIST}trace_id = ? ORDER BY s.id LIMIT 10`, /USING INDEX spans_by_trace \(trace_id=\? AND id>\?\)/],
  ['span count of a run', 'SELECT count(*) FROM spans WHERE run_id = ?', /USING COVERING INDEX spans_by_run \(run_id=\?\)/],
]

test('every span filter and the span count of a run search an index, never scan or sort', () => {
  const db = openDb(':memory:')
  for (const [name, sql, expected] of QUERIES) {
    const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all('x').map((r) => (r as { detail: string }).detail).join(' | ')
    assert.match(plan, expected, `${name}: ${plan}`)
    assert.not.match(plan, /SCAN|TEMP B-TREE/, `${name}: ${plan}`)
  }
  db.close()
})

test.run()
