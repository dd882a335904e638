// A wait for a task's outcome on one node hears of writes made on another (PostgreSQL wake-ups).
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startNodes } from '../helpers/nodes.ts'
import { expectStatus } from '../helpers/fixtures.ts'

const test = suite('task waits across nodes (child processes)')

test('a wait on one node answers when another node finishes the task or moves it out of a gate', async () => {
  const cluster = await startNodes(2)
  try {
    const [a, b] = cluster.nodes
    const definition = {
      initial: 'approve', states: { approve: { gate: true }, work: { agent_role: 'nodes-wait' }, done: { terminal: true } },
      transitions: [{ from: 'approve', to: 'work', trigger: 'go' }, { from: 'work', to: 'done', trigger: 'complete' }],
    }
    const pipelineId = expectStatus(await a.request('POST', '/pipelines', { name: 'nodes-wait', definition }), 201).body.id
    const id = expectStatus(await a.request('POST', '/tasks', { pipeline_id: pipelineId, title: 't', description: 'd' }), 201).body.id
    // Under the driver's 2 s re-check: the other node's wake-up is what answers.
    const atWork = a.request('GET', `/tasks/${id}/wait?timeout_ms=20000&stage=work`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    let started = performance.now()
    expectStatus(await b.request('POST', `/tasks/${id}/signal`, { trigger: 'go' }), 200)
    assert.is(expectStatus(await atWork, 200).body.stage, 'work')
    assert.ok(performance.now() - started < 1900, `${performance.now() - started} ms`)

    const done = a.request('GET', `/tasks/${id}/wait?timeout_ms=20000`)
    await new Promise((resolve) => setTimeout(resolve, 300))
    started = performance.now()
    const lease = expectStatus(await b.request('POST', '/leases/claim', { agent_id: 'x', agent_role: 'nodes-wait' }), 200).body
    expectStatus(await b.request('POST', `/runs/${lease.run.id}/transition`, { trigger: 'complete' }, { authorization: `Bearer ${lease.lease_token}` }), 200)
    assert.is(expectStatus(await done, 200).body.stage, 'done')
    assert.ok(performance.now() - started < 1900, `${performance.now() - started} ms`)
  } finally {
    await cluster.close()
  }
})

test.run()
