import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Database from 'better-sqlite3'
import { startProcess, tempDir, type DocketProcess } from '../helpers/process.ts'
import { assertConsistent } from '../helpers/invariants.ts'
import { sqliteProbe } from '../helpers/sql.ts'
import { bearer, expectStatus, unique } from '../helpers/fixtures.ts'

const test = suite('crash safety (child process)')

const WORKERS = 16
const BULK_WORKERS = 2

/** What the clients were told: only these writes must survive. */
type Acked = { created: Set<string>; claimed: Map<string, string>; completed: Set<string> }

/**
 * Creates, claims and completes tasks from many clients at once until `killAfter` writes are acknowledged,
 * then SIGKILLs the server in the middle of the load. Requests in flight at that moment may or may not land.
 */
async function loadThenKill(p: DocketProcess, pipelineId: string, role: string, killAfter: number): Promise<Acked> {
  const acked: Acked = { created: new Set(), claimed: new Map(), completed: new Set() }
  let count = 0
  let killed = false
  const ack = () => {
    if (++count >= killAfter && !killed) {
      killed = true
      p.child.kill('SIGKILL')
    }
  }
  const task = () => ({ pipeline_id: pipelineId, title: unique('t'), description: 'crash test' })
  const cycle = async () => {
    while (!killed) {
      const created = await p.request('POST', '/tasks', task())
      if (created.status !== 201) throw new Error(created.text)
      acked.created.add(created.body.id)
      ack()
      const claim = await p.request('POST', '/leases/claim', { agent_id: unique('a'), agent_role: role })
      if (claim.status === 204) continue
      if (claim.status !== 200) throw new Error(claim.text)
      acked.claimed.set(claim.body.task.id, claim.body.run.id)
      ack()
      const done = await p.request('POST', `/runs/${claim.body.run.id}/transition`, { trigger: 'go' }, bearer(claim.body.lease_token))
      if (done.status !== 200) throw new Error(done.text)
      acked.completed.add(claim.body.task.id)
      ack()
    }
  }
  const bulk = async () => {
    while (!killed) {
      const res = await p.request('POST', '/tasks/bulk', { tasks: Array.from({ length: 5 }, task) })
      if (res.status !== 201) throw new Error(res.text)
      for (const id of res.body.ids) acked.created.add(id)
      ack()
    }
  }
  // A request cut off by the kill rejects (socket closed); any other failure is a real one.
  const settle = (work: Promise<void>) => work.catch((err) => { if (!killed) throw err })
  await Promise.all([...Array.from({ length: WORKERS }, () => settle(cycle())), ...Array.from({ length: BULK_WORKERS }, () => settle(bulk()))])
  assert.equal(await p.exited, { code: null, signal: 'SIGKILL' })
  return acked
}

for (const durability of ['normal', 'full']) {
  test(`--durability ${durability}: after SIGKILL mid-load every acknowledged write is there and no completed task is claimable`, async () => {
    const tmp = tempDir()
    const file = `${tmp.dir}/d.db`
    const args = ['--db', file, '--durability', durability]
    try {
      const first = await startProcess(args)
      const role = unique('role')
      const definition = { initial: 'w', states: { w: { agent_role: role }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
      const pipelineId = expectStatus(await first.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
      const acked = await loadThenKill(first, pipelineId, role, 200 + Math.floor(Math.random() * 200))
      assert.ok(acked.completed.size > 0, 'the load completed nothing before the kill')

      // The restarted server opens the file as it was left and hands out only unfinished work.
      const second = await startProcess(args)
      const claimable: string[] = []
      const sweep = async () => {
        for (;;) {
          const res = await second.request('POST', '/leases/claim', { agent_id: unique('a'), agent_role: role })
          if (res.status === 204) return
          claimable.push(expectStatus(res, 200).body.task.id)
        }
      }
      await Promise.all(Array.from({ length: WORKERS }, sweep))
      assert.is(new Set(claimable).size, claimable.length, 'a task was claimed twice')
      for (const id of claimable) {
        assert.not.ok(acked.completed.has(id), `completed task ${id} was claimable again`)
        assert.not.ok(acked.claimed.has(id), `task ${id} under a live lease was claimed again`)
      }
      assert.equal(await second.kill('SIGTERM'), { code: 0, signal: null })

      const db = new Database(file, { readonly: true })
      try {
        const stageOf = db.prepare('SELECT stage FROM tasks WHERE id = ?').pluck()
        const runOf = db.prepare('SELECT status FROM runs WHERE id = ?').pluck()
        for (const id of acked.created) assert.ok(stageOf.get(id) !== undefined, `acknowledged task ${id} is missing`)
        for (const [taskId, runId] of acked.claimed) assert.ok(runOf.get(runId) !== undefined, `acknowledged run ${runId} of ${taskId} is missing`)
        for (const id of acked.completed) assert.is(stageOf.get(id), 'd', `acknowledged completion of ${id} is missing`)
        await assertConsistent(sqliteProbe(db))
      } finally {
        db.close()
      }
    } finally {
      tmp.remove()
    }
  })
}

test.run()
