import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, createTask, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { fireDue, putSchedule, tasksOf } from '../helpers/schedules.ts'

const test = suite<{ s: TestServer }>('schedules resource', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const MINUTE = 60_000

test('a put schedule answers 201 with its defaults and the next five fire times', async ({ s }) => {
  s.clock.set(Date.UTC(2026, 0, 1, 12, 0, 30))
  const { name, body } = await putSchedule(s, { cron: '*/15 * * * *' })
  assert.is(body.name, name)
  assert.is(body.timezone, 'UTC')
  assert.is(body.misfire, 'latest')
  assert.is(body.catchup_ms, 3_600_000)
  assert.is(body.overlap, 'allow')
  assert.is(body.paused, false)
  assert.equal(body.next_fire_times, [15, 30, 45, 60, 75].map((m) => Date.UTC(2026, 0, 1, 12, 0) + m * MINUTE))
  const read = expectStatus(await s.request('GET', `/schedules/${name}`), 200).body
  assert.equal(read, body)
})

test('a put over an existing name replaces it and answers 200', async ({ s }) => {
  const { name, body } = await putSchedule(s, { every_ms: 60_000 })
  const res = expectStatus(await s.request('PUT', `/schedules/${name}`, { every_ms: 120_000, task: body.task }), 200)
  assert.is(res.body.every_ms, 120_000)
  assert.is(res.body.created_at_ms, body.created_at_ms)
})

test('every_ms counts from when the schedule was first put; at is one instant, RFC 3339 or ms', async ({ s }) => {
  const now = s.clock.now()
  const every = (await putSchedule(s, { every_ms: 1000 })).body
  assert.equal(every.next_fire_times, [1, 2, 3, 4, 5].map((k) => now + k * 1000))
  const at = (await putSchedule(s, { at: new Date(now + 5000).toISOString() })).body
  assert.equal(at.next_fire_times, [now + 5000])
  const atMs = (await putSchedule(s, { at: now + 7000 })).body
  assert.is(atMs.at_ms, now + 7000)
})

test('bad definitions are 400 validation_failed naming the field', async ({ s }) => {
  const pipeline_id = await createPipeline(s)
  const task = { pipeline_id, title: 't' }
  const upstream = await createTask(s, pipeline_id)
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ cron: 'not a cron', task }, 'cron'],
    [{ cron: '61 * * * *', task }, 'cron'],
    [{ cron: '* * * * * * *', task }, 'cron'],
    [{ cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons', task }, 'timezone'],
    [{ every_ms: 999, task }, 'every_ms'],
    [{ task }, ''],
    [{ cron: '* * * * *', every_ms: 5000, task }, ''],
    [{ at: 'tomorrow', task }, 'at'],
    [{ every_ms: 5000, task: { pipeline_id: unique('missing'), title: 't' } }, 'task.pipeline_id'],
    [{ every_ms: 5000, task: { ...task, dependencies: [unique('no-task')] } }, 'task.dependencies[0]'],
    [{ every_ms: 5000, task: { ...task, dependencies: [upstream, upstream] } }, 'task.dependencies[1]'],
    [{ every_ms: 5000, task, misfire: 'sometimes' }, 'misfire'],
    [{ every_ms: 5000, task, overlap: 'never' }, 'overlap'],
    [{ every_ms: 5000, task, surprise: 1 }, 'surprise'],
  ]
  for (const [body, path] of cases) {
    const res = expectError(await s.request('PUT', `/schedules/${unique('bad')}`, body), 400, 'validation_failed')
    assert.ok(res.body.error.details.some((d: { path: string }) => d.path === path), `${JSON.stringify(body)}: ${res.text}`)
  }
  // GET /schedules/state is the global pause: no schedule can be named so.
  expectError(await s.request('PUT', '/schedules/state', { every_ms: 5000, task }), 405, 'method_not_allowed')
})

test('a 6-field cron has a seconds field', async ({ s }) => {
  s.clock.set(Date.UTC(2026, 0, 2, 0, 0, 0))
  const { body } = await putSchedule(s, { cron: '*/20 * * * * *' })
  assert.equal(body.next_fire_times, [20, 40, 60, 80, 100].map((sec) => Date.UTC(2026, 0, 2) + sec * 1000))
})

test('list by prefix in name order, with cursor paging', async ({ s }) => {
  const pipeline_id = await createPipeline(s)
  const prefix = unique('list')
  for (const n of ['c', 'a', 'b']) {
    expectStatus(await s.request('PUT', `/schedules/${prefix}-${n}`, { every_ms: 60_000, task: { pipeline_id, title: 't' } }), 201)
  }
  const first = expectStatus(await s.request('GET', `/schedules?prefix=${prefix}&limit=2`), 200).body
  assert.equal(first.items.map((x: any) => x.name), [`${prefix}-a`, `${prefix}-b`])
  const second = expectStatus(await s.request('GET', `/schedules?prefix=${prefix}&limit=2&cursor=${first.next_cursor}`), 200).body
  assert.equal(second.items.map((x: any) => x.name), [`${prefix}-c`])
  assert.is(second.next_cursor, null)
  expectError(await s.request('GET', '/schedules?cursor=%%%'), 400, 'validation_failed')
})

test('unknown schedules are 404 on every route', async ({ s }) => {
  const name = unique('nobody')
  expectError(await s.request('GET', `/schedules/${name}`), 404, 'not_found')
  expectError(await s.request('DELETE', `/schedules/${name}`), 404, 'not_found')
  expectError(await s.request('POST', `/schedules/${name}/trigger`), 404, 'not_found')
  expectError(await s.request('POST', `/schedules/${name}/pause`), 404, 'not_found')
  expectError(await s.request('GET', `/schedules/${name}/tasks`), 404, 'not_found')
})

test('a delete leaves the tasks the schedule made', async ({ s }) => {
  const { name } = await putSchedule(s, { every_ms: 60_000 })
  s.clock.advance(60_000)
  await fireDue(s)
  const [task] = await tasksOf(s, name)
  assert.ok(task)
  expectStatus(await s.request('DELETE', `/schedules/${name}`), 204)
  expectError(await s.request('GET', `/schedules/${name}`), 404, 'not_found')
  const kept = expectStatus(await s.request('GET', `/tasks/${task.id}`), 200).body
  assert.is(kept.metadata.schedule, name)
  s.clock.advance(60_000)
  await fireDue(s)
  expectError(await s.request('GET', `/schedules/${name}/tasks`), 404, 'not_found')
})

test('a template may name dependencies and an agent, as POST /tasks may', async ({ s }) => {
  const pipeline_id = await createPipeline(s)
  const upstream = await createTask(s, pipeline_id)
  const agent = unique('agent')
  const { name } = await putSchedule(s, {
    every_ms: 1000,
    task: { pipeline_id, title: 'x', description: 'for {{name}}', priority: 7, metadata: { team: 'ops' }, dependencies: [upstream], assigned_agent_id: agent, retry_policy: { max_attempts: 2 } },
  }, pipeline_id)
  s.clock.advance(1000)
  await fireDue(s)
  const [made] = await tasksOf(s, name)
  const task = expectStatus(await s.request('GET', `/tasks/${made.id}`), 200).body
  assert.is(task.description, `for ${name}`)
  assert.is(task.priority, 7)
  assert.is(task.max_attempts, 2)
  assert.equal(task.metadata, { team: 'ops', schedule: name, scheduled_at_ms: s.clock.now() })
  assert.equal(task.dependencies.map((d: any) => d.depends_on_task_id), [upstream])
  assert.equal(task.assignments.map((a: any) => a.agent_id), [agent])
})

test.run()
