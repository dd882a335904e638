import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { occurrencesOf } from '../../src/schedules/occurrences.ts'
import { ON_TIME_MS, slotsToFire } from '../../src/schedules/misfire.ts'
import type { ScheduleSpec } from '../../src/domain/schedule.ts'

const test = suite('schedule occurrences and misfire policies')

const spec = (fields: Partial<ScheduleSpec>): ScheduleSpec => ({
  cron: null, timezone: 'UTC', every_ms: null, at_ms: null, task: { pipeline_id: 'p', title: 't', description: '' },
  misfire: 'latest', catchup_ms: 3_600_000, max_catchup: 100, overlap: 'allow', ...fields,
})

test('every_ms slots are anchor + k·every, k ≥ 1, and between is (after, until]', () => {
  const o = occurrencesOf(spec({ every_ms: 1000 }), 10_000)
  assert.is(o.next(0), 11_000)
  assert.is(o.next(11_000), 12_000)
  assert.is(o.next(11_500), 12_000)
  assert.equal(o.between(11_000, 14_000, 10), [12_000, 13_000, 14_000])
  assert.equal(o.between(0, 14_000, 2), [13_000, 14_000])
  assert.equal(o.between(0, 10_500, 10), [])
})

test('cron slots, 6 fields with seconds; at is one slot', () => {
  const o = occurrencesOf(spec({ cron: '*/10 * * * * *' }), 0)
  assert.equal(o.between(0, 35_000, 10), [10_000, 20_000, 30_000])
  assert.equal(o.between(0, 35_000, 2), [20_000, 30_000])
  const at = occurrencesOf(spec({ at_ms: 5000 }), 0)
  assert.is(at.next(4999), 5000)
  assert.is(at.next(5000), null)
})

test('skip fires only slots on time; latest the last within catchup; all each within catchup, capped', () => {
  const now = 100 * 60_000
  const fire = (fields: Partial<ScheduleSpec>) => slotsToFire(spec({ every_ms: 60_000, ...fields }), occurrencesOf(spec({ every_ms: 60_000 }), 0), 0, now)
  assert.equal(fire({ misfire: 'skip' }), [now])
  assert.equal(slotsToFire(spec({ every_ms: 60_000, misfire: 'skip' }), occurrencesOf(spec({ every_ms: 60_000 }), 0), 0, now + ON_TIME_MS + 1), [])
  assert.equal(fire({ misfire: 'latest' }), [now])
  assert.equal(fire({ misfire: 'all', max_catchup: 3 }), [now - 120_000, now - 60_000, now])
  assert.equal(fire({ misfire: 'all', catchup_ms: 60_000 }), [now - 60_000, now])
  // The window includes its start: an hour back is still within catchup_ms of an hour.
  assert.equal(fire({ misfire: 'all' }).length, 61)
})

test('a catch-up window of days behind an every-second cron is not walked slot by slot: the latest ones, the same', () => {
  const o = occurrencesOf(spec({ cron: '* * * * * *' }), 0)
  const day = 86_400_000
  const until = 30 * day + 500
  assert.equal(o.between(0, until, 1), [30 * day])
  assert.equal(o.between(0, until, 3), [30 * day - 2000, 30 * day - 1000, 30 * day])
  assert.equal(slotsToFire(spec({ cron: '* * * * * *', misfire: 'all', catchup_ms: 30 * day, max_catchup: 2 }), o, 0, until), [30 * day - 1000, 30 * day])
  // Walked slot by slot, each of these was 2.6 million calls into croner, holding the event loop for seconds.
  // Short windows still walk forward, as before.
  assert.equal(o.between(10_000, 13_500, 10), [11_000, 12_000, 13_000])
})

test.run()
