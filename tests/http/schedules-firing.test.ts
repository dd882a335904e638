import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, claim, expectStatus, singleStage } from '../helpers/fixtures.ts'
import { fireDue, putSchedule, slotsOf, tasksOf } from '../helpers/schedules.ts'

const test = suite<{ s: TestServer }>('schedules firing', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const MINUTE = 60_000
const T0 = Date.UTC(2026, 4, 1, 12, 0, 0)

/** The process down for `ms` (its timer stopped), then started again: it reads every cursor back. */
async function downFor(s: TestServer, ms: number): Promise<void> {
  s.docket.scheduler.stop()
  s.clock.advance(ms)
  await s.docket.scheduler.start()
  await fireDue(s)
}

test('a cron schedule fires at its slot, once, with the slot in the task', async ({ s }) => {
  s.clock.set(T0 + 30_000)
  const { name } = await putSchedule(s, { cron: '*/15 * * * *' })
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [])
  s.clock.set(T0 + 15 * MINUTE)
  await fireDue(s)
  await fireDue(s)
  const [task] = await tasksOf(s, name)
  assert.equal(await slotsOf(s, name), [T0 + 15 * MINUTE])
  assert.is(task.title, `${name} at ${new Date(T0 + 15 * MINUTE).toISOString()}`)
  assert.is(task.created_at_ms, T0 + 15 * MINUTE)
  assert.equal(task.metadata, { schedule: name, scheduled_at_ms: T0 + 15 * MINUTE })
})

test('an every_ms schedule fires each interval', async ({ s }) => {
  const start = s.clock.now()
  const { name } = await putSchedule(s, { every_ms: 1000 })
  for (let i = 0; i < 3; i++) {
    s.clock.advance(1000)
    await fireDue(s)
  }
  assert.equal(await slotsOf(s, name), [start + 1000, start + 2000, start + 3000])
})

test('an at schedule fires once and is done', async ({ s }) => {
  const at = s.clock.now() + 5000
  const { name } = await putSchedule(s, { at })
  s.clock.advance(4999)
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [])
  s.clock.advance(1)
  await fireDue(s)
  s.clock.advance(MINUTE)
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [at])
  assert.equal(expectStatus(await s.request('GET', `/schedules/${name}`), 200).body.next_fire_times, [])
})

test('after a downtime: skip fires none of the missed slots, latest the last, all each within catchup up to the cap', async ({ s }) => {
  const start = s.clock.now()
  const skip = (await putSchedule(s, { every_ms: MINUTE, misfire: 'skip' })).name
  const latest = (await putSchedule(s, { every_ms: MINUTE })).name
  const all = (await putSchedule(s, { every_ms: MINUTE, misfire: 'all', max_catchup: 3 })).name
  const windowed = (await putSchedule(s, { every_ms: MINUTE, misfire: 'all', catchup_ms: 120_000 })).name
  const old = (await putSchedule(s, { every_ms: MINUTE, catchup_ms: 10_000 })).name
  await downFor(s, 10 * MINUTE + 30_000)
  const slot = (k: number) => start + k * MINUTE
  assert.equal(await slotsOf(s, skip), [])
  assert.equal(await slotsOf(s, latest), [slot(10)])
  assert.equal(await slotsOf(s, all), [slot(8), slot(9), slot(10)])
  assert.equal(await slotsOf(s, windowed), [slot(9), slot(10)])
  assert.equal(await slotsOf(s, old), [])
  // Back on time: the next slot fires under every policy.
  s.clock.advance(30_000)
  await fireDue(s)
  for (const name of [skip, latest, all, windowed, old]) assert.is((await slotsOf(s, name)).at(-1), slot(11), name)
})

test('a restart after a fire makes no second task for its slot, nor does the slot fired again', async ({ s }) => {
  const { name } = await putSchedule(s, { every_ms: MINUTE, misfire: 'all' })
  s.clock.advance(MINUTE)
  await fireDue(s)
  const slot = s.clock.now()
  await downFor(s, 0)
  // The same slot fired again, as a node that never heard of the first fire would.
  const render = () => ({ pipeline_id: 'unused', title: 'x', description: '' })
  const again = await s.docket.app.driver.tryWrite((c) => c.fireSlot({ name, slotMs: slot, manual: false, render }, s.clock.now()))
  assert.equal(again, { outcome: 'exists', task_id: null })
  assert.equal(await slotsOf(s, name), [slot])
})

test('overlap skip_if_open fires no new task while the previous one is open', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const { name } = await putSchedule(s, { every_ms: 1000, overlap: 'skip_if_open' }, pipelineId)
  const tick = async () => { s.clock.advance(1000); await fireDue(s) }
  await tick()
  await tick()
  assert.is((await tasksOf(s, name)).length, 1)
  const lease = (await claim(s, role))!
  expectStatus(await s.request('POST', `/runs/${lease.lease_id}/transition`, { trigger: 'complete' }, bearer(lease.lease_token)), 200)
  await tick()
  const [second] = await tasksOf(s, name)
  assert.is((await tasksOf(s, name)).length, 2)
  await tick()
  assert.is((await tasksOf(s, name)).length, 2)
  // A canceled task is out of play: it does not hold the schedule back either.
  expectStatus(await s.request('POST', `/tasks/${second.id}/cancel`, {}), 200)
  await tick()
  assert.is((await tasksOf(s, name)).length, 3)
})

test('pause and resume one schedule: nothing fires while paused, and no slot from before the resume', async ({ s }) => {
  const start = s.clock.now()
  const { name } = await putSchedule(s, { every_ms: 1000, misfire: 'all' })
  const paused = expectStatus(await s.request('POST', `/schedules/${name}/pause`), 200).body
  assert.is(paused.paused, true)
  s.clock.advance(5000)
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [])
  expectStatus(await s.request('POST', `/schedules/${name}/resume`), 200)
  s.clock.advance(1000)
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [start + 6000])
})

test('the global pause stops every schedule and is reported by /schedules/state', async ({ s }) => {
  const start = s.clock.now()
  const { name } = await putSchedule(s, { every_ms: 1000 })
  const state = expectStatus(await s.request('POST', '/schedules/pause'), 200).body
  assert.equal(state, { paused: true, updated_at_ms: start })
  assert.equal(expectStatus(await s.request('GET', '/schedules/state'), 200).body, state)
  s.clock.advance(3000)
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [])
  // A manual trigger still works while paused.
  const trigger = expectStatus(await s.request('POST', `/schedules/${name}/trigger`), 201).body
  assert.is(trigger.scheduled_at_ms, start + 3000)
  expectStatus(await s.request('POST', '/schedules/resume'), 200)
  assert.is(expectStatus(await s.request('GET', '/schedules/state'), 200).body.paused, false)
  s.clock.advance(1000)
  await fireDue(s)
  assert.equal(await slotsOf(s, name), [start + 3000, start + 4000])
})

test('a manual trigger makes a task now in a slot of its own; the scheduled slot still fires', async ({ s }) => {
  const { name } = await putSchedule(s, { every_ms: 1000 })
  s.clock.advance(1000)
  const res = expectStatus(await s.request('POST', `/schedules/${name}/trigger`), 201).body
  await fireDue(s)
  const tasks = await tasksOf(s, name)
  assert.is(tasks.length, 2)
  assert.ok(tasks.some((t) => t.id === res.task_id))
  // With an Idempotency-Key, a replayed trigger answers the first task and makes none.
  const key = { 'idempotency-key': 'trigger-1' }
  const a = expectStatus(await s.request('POST', `/schedules/${name}/trigger`, undefined, key), 201).body
  const b = expectStatus(await s.request('POST', `/schedules/${name}/trigger`, undefined, key), 201).body
  assert.is(a.task_id, b.task_id)
  assert.is((await tasksOf(s, name)).length, 3)
})

test.run()
