import * as assert from 'uvu/assert'
import type { TestServer } from './server.ts'
import type { Commit } from '../../src/http/commit.ts'

export type ClaimAnswer = { status: number; body: any }

/**
 * Long-poll claims that remember every lease a client really received, so a test can check at its end that
 * no live lease is held by nobody (issue 13: a lease committed for a waiter that was never answered with it).
 */
export function claimClient(s: TestServer) {
  const delivered = new Set<string>()
  const roles = new Set<string>()
  return {
    delivered,
    /** POST /leases/claim with `wait_ms`; a 200 body is recorded as delivered once the client has read it. */
    async claim(role: string, waitMs: number, agentId: string, signal?: AbortSignal): Promise<ClaimAnswer> {
      roles.add(role)
      const res = await fetch(`${s.url}/leases/claim`, {
        method: 'POST',
        body: JSON.stringify({ agent_id: agentId, agent_role: role, wait_ms: waitMs }),
        signal,
      })
      const text = await res.text()
      const body = text === '' ? undefined : JSON.parse(text)
      if (res.status === 200) delivered.add(body.run.id)
      return { status: res.status, body }
    },
    /** Every run of the roles this client claimed for that holds a lease now was answered to a client. */
    async assertEveryLeaseDelivered(): Promise<void> {
      const live = (await s.sql("SELECT id, agent_role FROM runs WHERE status = 'running'"))
        .filter((r) => roles.has(r.agent_role)).map((r) => r.id as string)
      const orphans = live.filter((id) => !delivered.has(id))
      assert.equal(orphans, [], `${orphans.length} of ${live.length} live leases were never delivered`)
    },
  }
}

/** Waits (bounded) until the server holds `n` waiting claims. */
export async function waitersReach(s: TestServer, n: number, timeoutMs = 3000): Promise<void> {
  const until = performance.now() + timeoutMs
  while (s.docket.app.waiters.count() !== n && performance.now() < until) await tick(2)
  assert.is(s.docket.app.waiters.count(), n)
}

export const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Holds every committed lease (a claim's 200) at a gate before it goes back to the claim route, so a test can make
 * things happen while a claim is in flight (its lease committed, its answer not yet sent). Returns a
 * function that opens the gate and restores the real commit.
 */
export function holdClaimAnswers(s: TestServer): { held(): number; open(): void } {
  const app = s.docket.app
  const real: Commit = app.commit
  let held = 0
  let open = () => {}
  const gate = new Promise<void>((resolve) => { open = resolve })
  app.commit = async (input, change, options) => {
    const reply = await real(input, change, options)
    if (input.rawPath !== '/leases/claim' || reply.status !== 200) return reply
    held += 1
    await gate
    return reply
  }
  return {
    held: () => held,
    open() {
      app.commit = real
      open()
    },
  }
}
