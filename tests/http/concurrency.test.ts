import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { bearer, expectStatus, singleStage } from '../helpers/fixtures.ts'
import { walkTasks } from '../helpers/tasks.ts'

const test = suite<{ s: TestServer }>('concurrent claims', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

test('32 concurrent claimers drain 500 tasks: each claimed exactly once, none lost', async ({ s }) => {
  const { pipelineId, role } = await singleStage(s)
  const ids: string[] = []
  for (let batch = 0; batch < 5; batch++) {
    const tasks = Array.from({ length: 100 }, (_, i) => ({ pipeline_id: pipelineId, title: `t${batch * 100 + i}`, description: '' }))
    ids.push(...expectStatus(await s.request('POST', '/tasks/bulk', { tasks }), 201).body.ids)
  }
  const claimed: string[] = []
  const agent = async (n: number) => {
    for (let i = 0; i < 200; i++) {
      const res = await s.request('POST', '/leases/claim', { agent_id: `agent-${n}`, agent_role: role })
      if (res.status === 204) return
      const lease = expectStatus(res, 200).body
      claimed.push(lease.task.id)
      expectStatus(await s.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete' }, bearer(lease.lease_token)), 200)
    }
  }
  await Promise.all(Array.from({ length: 32 }, (_, n) => agent(n)))
  assert.is(claimed.length, 500)
  assert.is(new Set(claimed).size, 500)
  assert.equal([...claimed].sort(), [...ids].sort())
  assert.is((await walkTasks(s, { pipeline_id: pipelineId, stage: 'done' }, 1000)).length, 500)
})

test.run()
