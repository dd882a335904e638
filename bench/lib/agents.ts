import type { Client } from './client.ts'
import { BULK_SIZE, cycleDefinition } from './pipeline.ts'

export type AgentRun = {
  cycles: number
  seconds: number
  claimMs: number[]
  transitionMs: number[]
  /** Claims that returned a task some agent had already claimed: must be 0. */
  duplicates: number
  /** Whether the deadline stopped the agents before the queue was drained. */
  timedOut: boolean
}

/** A pipeline (one role stage → terminal) with `count` queued tasks, created 500 per bulk request. */
export async function seedPipeline(client: Client, name: string, count: number): Promise<{ pipelineId: string; role: string; taskIds: string[] }> {
  const role = `${name}-agent`
  const created = await client.call('POST', '/pipelines', { name, definition: cycleDefinition(role) }, [201])
  const pipelineId = created.body.id as string
  const taskIds: string[] = []
  for (let i = 0; i < count; i += BULK_SIZE) {
    const tasks = Array.from({ length: Math.min(BULK_SIZE, count - i) }, (_, j) => ({ pipeline_id: pipelineId, title: `task ${i + j}`, description: 'bench' }))
    const res = await client.call('POST', '/tasks/bulk', { tasks }, [201])
    taskIds.push(...(res.body.ids as string[]))
  }
  return { pipelineId, role, taskIds }
}

/**
 * `agents` concurrent loops of claim → transition("complete") on one keep-alive pool until a claim answers
 * 204 (every task created up front has been claimed) or the deadline passes. Every task moves to a terminal
 * stage, so a 204 means the queue is drained.
 */
export async function runAgents(clients: Client | Client[], opts: { role: string; agents: number; deadlineMs: number; maxCycles: number }): Promise<AgentRun> {
  // Several clients: agents take turns among them (one per Docket node).
  const pool = Array.isArray(clients) ? clients : [clients]
  const claimMs: number[] = []
  const transitionMs: number[] = []
  const claimed = new Set<string>()
  let duplicates = 0
  let cycles = 0
  let timedOut = false
  const started = performance.now()
  const deadline = started + opts.deadlineMs

  const agent = async (n: number) => {
    const agentId = `agent-${n}`
    const client = pool[n % pool.length]
    while (cycles < opts.maxCycles) {
      if (performance.now() > deadline) {
        timedOut = true
        return
      }
      const t0 = performance.now()
      const claim = await client.call('POST', '/leases/claim', { agent_id: agentId, agent_role: opts.role }, [200, 204])
      const t1 = performance.now()
      if (claim.status === 204) return
      claimMs.push(t1 - t0)
      const taskId = claim.body.task.id as string
      if (claimed.has(taskId)) duplicates += 1
      claimed.add(taskId)
      const auth = { authorization: `Bearer ${claim.body.lease_token}` }
      const t2 = performance.now()
      await client.call('POST', `/runs/${encodeURIComponent(claim.body.run.id)}/transition`, { trigger: 'complete' }, [200], auth)
      transitionMs.push(performance.now() - t2)
      cycles += 1
    }
  }
  await Promise.all(Array.from({ length: opts.agents }, (_, n) => agent(n)))
  return { cycles, seconds: (performance.now() - started) / 1000, claimMs, transitionMs, duplicates, timedOut }
}
