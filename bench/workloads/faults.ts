// Issue 13's fault measurements, over HTTP against a child process:
// - leases held by nobody: long-poll claims woken by many commits in one turn, and claims whose deadline meets a
//   bulk create (a live lease no client received would sit unclaimable for its whole TTL);
// - reads while another process holds the write lock: what /health and a list answer, and what a write answers.
import Database from 'better-sqlite3'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Workload } from '../lib/types.ts'
import { createClient, type Client } from '../lib/client.ts'
import { cycleDefinition } from '../lib/pipeline.ts'
import { round, summarize } from '../lib/stats.ts'

const FULL = { overlapRounds: 12, deadlineRounds: 6, deadlineClaims: 1_000, lockMs: 8_000 }
const QUICK = { overlapRounds: 4, deadlineRounds: 2, deadlineClaims: 1_000, lockMs: 3_000 }
const OVERLAP_CLAIMS = 40
const DEADLINE_WAIT_MS = 1_000
const ANSWER_DEADLINE_MS = 30_000

/** Sends claims; records the run id of every lease a client received. */
function claimer(client: Client, role: string, delivered: Set<string>) {
  return async (agent: string, waitMs: number): Promise<number> => {
    const res = await client.request('POST', '/leases/claim', { agent_id: agent, agent_role: role, wait_ms: waitMs })
    if (res.status === 200) delivered.add(res.body.run.id)
    return res.status
  }
}

/** Live leases of `role` that no client received. */
function orphans(dbPath: string, role: string, delivered: Set<string>): number {
  const db = new Database(dbPath, { readonly: true })
  try {
    const live = db.prepare("SELECT id FROM runs WHERE status = 'running' AND agent_role = ?").pluck().all(role) as string[]
    return live.filter((id) => !delivered.has(id)).length
  } finally {
    db.close()
  }
}

async function pipeline(client: Client, role: string): Promise<string> {
  return (await client.call('POST', '/pipelines', { name: role, definition: cycleDefinition(role) }, [201])).body.id
}

const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, sleep(ms).then(() => { throw new Error(`${what} not answered within ${ms} ms`) })])

const workload: Workload = {
  name: 'faults',
  description: 'leases held by nobody after racing long-poll claims; reads and writes while another process holds the write lock',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const docket = await ctx.startDocket()
    const control = createClient(docket.url, 4)
    const claims = createClient(docket.url, size.deadlineClaims)
    try {
      // 40 waiting claims, then 40 creates sent at once: their commits share turns and each wakes the waiters.
      const overlapRole = 'overlap-agent'
      const overlapPipeline = await pipeline(control, overlapRole)
      const overlapDelivered = new Set<string>()
      const overlapClaim = claimer(claims, overlapRole, overlapDelivered)
      const creates = createClient(docket.url, OVERLAP_CLAIMS)
      for (let round = 0; round < size.overlapRounds; round++) {
        const answers = Array.from({ length: OVERLAP_CLAIMS }, (_, i) => overlapClaim(`o${round}-${i}`, 20_000))
        await sleep(200)
        await Promise.all(Array.from({ length: OVERLAP_CLAIMS }, (_, i) =>
          creates.call('POST', '/tasks', { pipeline_id: overlapPipeline, title: `o${round}-${i}`, description: '' }, [201])))
        await within(Promise.all(answers), ANSWER_DEADLINE_MS, 'overlap claims')
      }
      await creates.close()
      const overlapOrphans = orphans(docket.dbPath, overlapRole, overlapDelivered)
      ctx.log(`overlap: ${overlapOrphans} of ${size.overlapRounds * OVERLAP_CLAIMS} leases held by nobody`)

      // 1,000 claims with wait_ms 1000 and a bulk create of 1,000 tasks sent just before their deadline.
      const deadlineRole = 'deadline-agent'
      const deadlinePipeline = await pipeline(control, deadlineRole)
      const deadlineDelivered = new Set<string>()
      const deadlineClaim = claimer(claims, deadlineRole, deadlineDelivered)
      for (let round = 0; round < size.deadlineRounds; round++) {
        const sentAt = performance.now()
        const answers = Array.from({ length: size.deadlineClaims }, (_, i) => deadlineClaim(`d${round}-${i}`, DEADLINE_WAIT_MS))
        await sleep(Math.max(0, DEADLINE_WAIT_MS - 15 - (performance.now() - sentAt)))
        const tasks = Array.from({ length: size.deadlineClaims }, (_, i) => ({ pipeline_id: deadlinePipeline, title: `d${round}-${i}`, description: '' }))
        await control.call('POST', '/tasks/bulk', { tasks }, [201])
        await within(Promise.all(answers), ANSWER_DEADLINE_MS, 'deadline claims')
      }
      const deadlineOrphans = orphans(docket.dbPath, deadlineRole, deadlineDelivered)
      ctx.log(`deadline: ${deadlineOrphans} of ${deadlineDelivered.size + deadlineOrphans} leases held by nobody`)

      // Another process takes the write lock (as `sqlite3` with BEGIN IMMEDIATE would) and holds it.
      const other = new Database(docket.dbPath)
      other.exec('BEGIN IMMEDIATE')
      const lockedAt = performance.now()
      const write = control.request('POST', '/tasks', { pipeline_id: deadlinePipeline, title: 'behind the lock', description: '' })
        .then((r) => ({ status: r.status, code: r.body?.error?.code as string | undefined, ms: performance.now() - lockedAt }))
      const readMs: number[] = []
      let readsFailed = 0
      const paths = ['/health', '/openapi.json', '/tasks?limit=20']
      while (performance.now() - lockedAt < size.lockMs - 200) {
        const t0 = performance.now()
        const res = await control.request('GET', paths[readMs.length % paths.length])
        if (res.status !== 200) readsFailed += 1
        readMs.push(performance.now() - t0)
        await sleep(20)
      }
      other.exec('COMMIT')
      other.close()
      const written = await write
      const reads = summarize(readMs)
      ctx.log(`lock held ${size.lockMs} ms: reads p99 ${round(reads.p99)} ms; a write answered ${written.status} after ${round(written.ms)} ms`)

      return {
        metrics: {
          overlap_leases: size.overlapRounds * OVERLAP_CLAIMS,
          overlap_orphaned_leases: overlapOrphans,
          deadline_leases_delivered: deadlineDelivered.size,
          deadline_orphaned_leases: deadlineOrphans,
          locked_read_p50_ms: round(reads.p50),
          locked_read_p99_ms: round(reads.p99),
          locked_read_max_ms: round(reads.max),
          locked_reads_failed: readsFailed,
          locked_write_status: written.status,
          locked_write_code: written.code ?? '',
          locked_write_answered_ms: round(written.ms),
        },
        notes: [
          `overlap: ${size.overlapRounds} rounds of ${OVERLAP_CLAIMS} waiting claims and ${OVERLAP_CLAIMS} concurrent POST /tasks; deadline: ${size.deadlineRounds} rounds of ${size.deadlineClaims} claims (wait_ms ${DEADLINE_WAIT_MS}) and a bulk create sent 15 ms before their deadline. An orphaned lease is a live lease no client received.`,
          `lock: another connection holds BEGIN IMMEDIATE for ${size.lockMs / 1000} s while /health, /openapi.json and a task list are read in a loop; one POST /tasks is sent as the lock is taken.`,
        ],
      }
    } finally {
      await claims.destroy()
      await control.close()
      await docket.stop()
    }
  },
}

export default workload
