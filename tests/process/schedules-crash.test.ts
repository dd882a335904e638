import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Database from 'better-sqlite3'
import { setTimeout as sleep } from 'node:timers/promises'
import { startProcess, tempDir, type DocketProcess } from '../helpers/process.ts'
import { expectStatus, unique } from '../helpers/fixtures.ts'

const test = suite('schedules across a crash (child process)')

const SCHEDULES = 100
const EVERY_MS = 1000

/** Waits (bounded) until every schedule has made a task. */
async function untilAllFired(p: DocketProcess, names: string[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (const name of names) {
    for (;;) {
      const res = expectStatus(await p.request('GET', `/schedules/${name}/tasks?limit=1`), 200)
      if (res.body.items.length > 0) break
      if (performance.now() > deadline) throw new Error(`schedule ${name} made no task within ${timeoutMs} ms`)
      await sleep(50)
    }
  }
}

test('SIGKILL while schedules fire, then a restart: every slot has exactly one task, none missing (misfire all)', async () => {
  const tmp = tempDir()
  const args = ['--db', `${tmp.dir}/d.db`]
  try {
    const first = await startProcess(args)
    const definition = { initial: 'w', states: { w: { agent_role: unique('r') }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
    const pipeline_id = expectStatus(await first.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
    const names = Array.from({ length: SCHEDULES }, () => unique('s'))
    for (const name of names) {
      expectStatus(await first.request('PUT', `/schedules/${name}`, { every_ms: EVERY_MS, misfire: 'all', task: { pipeline_id, title: '{{name}}' } }), 201)
    }
    await untilAllFired(first, names, 10_000)
    // A kill at a random moment of a second: with a hundred fires a second, most likely in the middle of some.
    await sleep(Math.floor(Math.random() * EVERY_MS))
    assert.equal(await first.kill('SIGKILL'), { code: null, signal: 'SIGKILL' })
    await sleep(1500) // slots fall due while it is down

    const second = await startProcess(args)
    await sleep(2500) // the missed slots, then a few on time
    assert.equal(await second.kill('SIGTERM'), { code: 0, signal: null })

    const db = new Database(`${tmp.dir}/d.db`, { readonly: true })
    try {
      const anchorOf = db.prepare('SELECT anchor_ms FROM schedules WHERE name = ?').pluck()
      const slotsOf = db.prepare(`
        SELECT json_extract(metadata_json, '$.scheduled_at_ms') FROM tasks
        WHERE json_extract(metadata_json, '$.schedule') = ? ORDER BY 1`).pluck()
      const slotRows = db.prepare("SELECT count(*) FROM schedule_slots WHERE schedule_name = ? AND outcome = 'created'").pluck()
      for (const name of names) {
        const anchor = anchorOf.get(name) as number
        const slots = slotsOf.all(name) as number[]
        // Slots anchor + k·1000 for k = 1…n, each once: no duplicate, and none lost to the crash.
        assert.equal(slots, slots.map((_, i) => anchor + (i + 1) * EVERY_MS), name)
        assert.ok(slots.length >= 4, `${name}: only ${slots.length} slots`)
        assert.is(slotRows.get(name), slots.length, `${name}: slot records and tasks differ`)
      }
    } finally {
      db.close()
    }
  } finally {
    tmp.remove()
  }
})

test.run()
