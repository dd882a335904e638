import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { fireDue, putSchedule, slotsOf } from '../helpers/schedules.ts'

// A server of its own: these tests set the clock to dates of their choosing, and a clock set back behind
// another test's resume would hold every schedule back until it caught up again.
const test = suite<{ s: TestServer }>('schedules across daylight-saving changes', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const MINUTE = 60_000

/** Moves the clock on by `hours`, firing every half hour, as the timer would. */
async function runFor(s: TestServer, hours: number): Promise<void> {
  for (let i = 0; i < hours * 2; i++) {
    s.clock.advance(30 * MINUTE)
    await fireDue(s)
  }
}

test('America/New_York: a daily 02:30 fires once on the spring-forward day, at 03:00', async ({ s }) => {
  // 2026-03-08: clocks go from 02:00 EST to 03:00 EDT.
  s.clock.set(Date.UTC(2026, 2, 7, 12))
  const spring = (await putSchedule(s, { cron: '30 2 * * *', timezone: 'America/New_York', misfire: 'all' })).name
  await runFor(s, 48)
  // The 8th at 03:00 EDT (02:30 does not exist that day), then 02:30 EDT on the 9th.
  assert.equal(await slotsOf(s, spring), [Date.UTC(2026, 2, 8, 7, 0), Date.UTC(2026, 2, 9, 6, 30)])
})

test('America/New_York: a daily 01:30 fires once on the fall-back day, the first time', async ({ s }) => {
  // 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST, so 01:30 happens twice.
  s.clock.set(Date.UTC(2026, 9, 31, 12))
  const fall = (await putSchedule(s, { cron: '30 1 * * *', timezone: 'America/New_York', misfire: 'all' })).name
  await runFor(s, 48)
  // 01:30 EDT (05:30 Z) on the 1st, not again at 01:30 EST; then 01:30 EST (06:30 Z) on the 2nd.
  assert.equal(await slotsOf(s, fall), [Date.UTC(2026, 10, 1, 5, 30), Date.UTC(2026, 10, 2, 6, 30)])
})

test.run()
