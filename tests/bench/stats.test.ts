import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { percentile, round, summarize } from '../../bench/lib/stats.ts'

const test = suite('bench stats')

test('percentile returns an observed value by nearest rank', () => {
  const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  assert.is(percentile(sorted, 50), 5)
  assert.is(percentile(sorted, 99), 10)
  assert.is(percentile(sorted, 0), 1)
})

test('summarize sorts its samples numerically, not as strings', () => {
  const s = summarize([10, 9, 100, 2])
  assert.is(s.p50, 9)
  assert.is(s.max, 100)
  assert.is(s.count, 4)
})

test('summarize of no samples is NaN, not a crash', () => {
  assert.ok(Number.isNaN(summarize([]).p99))
})

test('round keeps three significant digits', () => {
  assert.is(round(1234.5), 1230)
  assert.is(round(0.012345), 0.0123)
  assert.is(round(0), 0)
})

test.run()
