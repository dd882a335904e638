import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { setTimeout as sleep } from 'node:timers/promises'
import { startNodes } from '../helpers/nodes.ts'
import { expectStatus, unique } from '../helpers/fixtures.ts'

const test = suite('schedules on several nodes of one PostgreSQL (child processes)')

const SCHEDULES = 20
const EVERY_MS = 1000

test('both nodes fire every slot, each once; a schedule put on one node keeps firing on the other after the first is killed', async () => {
  const cluster = await startNodes(2)
  const [a, b] = cluster.nodes
  try {
    const definition = { initial: 'w', states: { w: { agent_role: unique('r') }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
    const pipeline_id = expectStatus(await a.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
    const names = Array.from({ length: SCHEDULES }, () => unique('s'))
    // Put on node a only: node b hears of them by NOTIFY.
    for (const name of names) {
      expectStatus(await a.request('PUT', `/schedules/${name}`, { every_ms: EVERY_MS, misfire: 'all', task: { pipeline_id, title: '{{name}}' } }), 201)
    }
    await sleep(2_500)
    assert.equal(await a.kill('SIGKILL'), { code: null, signal: 'SIGKILL' })
    const killedAt = Date.now()
    await sleep(2_500)
    // Node b's pause stops them everywhere (it is the only node left, and its timer has them).
    expectStatus(await b.request('POST', '/schedules/pause'), 200)

    const rows = await cluster.sql(`
      SELECT s.name, s.anchor_ms, t.metadata_json FROM schedules s JOIN schedule_slots x ON x.schedule_name = s.name
      JOIN tasks t ON t.id = x.task_id ORDER BY s.name, x.scheduled_at_ms`)
    for (const name of names) {
      const mine = rows.filter((r) => r.name === name)
      const anchor = Number(mine[0]?.anchor_ms)
      const slots = mine.map((r) => JSON.parse(r.metadata_json).scheduled_at_ms as number)
      assert.equal(slots, slots.map((_, i) => anchor + (i + 1) * EVERY_MS), `${name}: each slot once, none missing`)
      assert.ok(slots.at(-1)! > killedAt + EVERY_MS, `${name}: nothing fired after node a was killed`)
    }
    const tasks = await cluster.sql("SELECT count(*) AS n FROM tasks WHERE metadata_json LIKE '%\"schedule\"%'")
    assert.is(Number(tasks[0].n), rows.length, 'a task without its slot record')
  } finally {
    await cluster.close()
  }
})

test.run()
