// Long-poll claims (`wait_ms`): what 1,000 parked claims cost Docket in memory and in CPU while nothing
// happens, and how soon a parked claim gets a task that was just created.
import { setTimeout as sleep } from 'node:timers/promises'
import type { Workload } from '../lib/types.ts'
import { createClient, type Client } from '../lib/client.ts'
import { processCpuMs, processRssMb } from '../lib/docket.ts'
import { runAgents, seedPipeline } from '../lib/agents.ts'
import { BULK_SIZE, cycleDefinition } from '../lib/pipeline.ts'
import { round, summarize } from '../lib/stats.ts'

// The first wake-ups run the wake path cold (JIT); they are not measured.
const FULL = { waiters: 1_000, warm: 5, wakeups: 50 }
const QUICK = { waiters: 1_000, warm: 5, wakeups: 20 }
const ROLE = 'long-poll-agent'
// Longer than the whole workload: a claim that answers 204 timed out, which is a finding.
const WAIT_MS = 60_000
const IDLE_MS = 2_000
// Parked = every request is on the wire and the server's CPU time stood still (≤ one 10 ms tick) twice running.
const SETTLE_SAMPLE_MS = 250
const PARK_DEADLINE_MS = 15_000
const WAKE_DEADLINE_MS = 5_000
const RELEASE_DEADLINE_MS = 20_000

type Answer = { status: number; taskId: string | null; atMs: number }

/** `n` long-poll claims, one per connection of one client; their answers are recorded in arrival order. */
function startClaims(url: string, n: number) {
  const client = createClient(url, n)
  const answers: Answer[] = []
  let onAnswer = () => {}
  const claim = async (i: number) => {
    const res = await client.request('POST', '/leases/claim', { agent_id: `waiter-${i}`, agent_role: ROLE, wait_ms: WAIT_MS })
    answers.push({ status: res.status, taskId: res.status === 200 ? res.body.task.id : null, atMs: performance.now() })
    onAnswer()
  }
  // The client is destroyed at the end; a claim still open then is one the counts below report as unanswered.
  for (let i = 0; i < n; i++) claim(i).catch(() => {})
  return {
    client,
    answers,
    /** Resolves once `count` claims have answered. */
    until(count: number, timeoutMs: number): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          onAnswer = () => {}
          reject(new Error(`${answers.length} of ${count} claims answered within ${timeoutMs} ms`))
        }, timeoutMs)
        onAnswer = () => {
          if (answers.length < count) return
          clearTimeout(timer)
          onAnswer = () => {}
          resolve()
        }
        onAnswer()
      })
    },
  }
}

/** Waits until all `n` claims are sent and the server has gone quiet; returns the seconds it took. */
async function waitParked(client: Client, n: number, pid: number): Promise<number> {
  const started = performance.now()
  let cpu = processCpuMs(pid)
  for (let still = 0; still < 2;) {
    if (performance.now() - started > PARK_DEADLINE_MS) {
      throw new Error(`claims not parked within ${PARK_DEADLINE_MS} ms (${client.inFlight()} of ${n} sent)`)
    }
    await sleep(SETTLE_SAMPLE_MS)
    const now = processCpuMs(pid)
    still = client.inFlight() === n && now - cpu <= 10 ? still + 1 : 0
    cpu = now
  }
  return (performance.now() - started) / 1000
}

const workload: Workload = {
  name: 'long-poll',
  description: '1,000 claims waiting (wait_ms 60000) for one role: server RSS and idle CPU, then wake-up latency of created tasks',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const docket = await ctx.startDocket([], { label: `${size.waiters} waiters` })
    const control = createClient(docket.url, 2)
    let claims: ReturnType<typeof startClaims> | undefined
    try {
      // Warm the claim and create paths first, so the RSS difference is the waiters' own.
      const warm = await seedPipeline(control, 'warmup', 500)
      await runAgents(control, { role: warm.role, agents: 4, deadlineMs: 20_000, maxCycles: 500 })
      const pipelineId = (await control.call('POST', '/pipelines', { name: 'long-poll', definition: cycleDefinition(ROLE) }, [201])).body.id as string
      await sleep(500)
      const rssBeforeMb = processRssMb(docket.pid)

      claims = startClaims(docket.url, size.waiters)
      const parkS = await waitParked(claims.client, size.waiters, docket.pid)
      if (claims.answers.length > 0) throw new Error(`${claims.answers.length} claims answered before any task existed`)
      const cpu0 = processCpuMs(docket.pid)
      await sleep(IDLE_MS)
      const idleCpuMs = processCpuMs(docket.pid) - cpu0
      const rssWaitingMb = processRssMb(docket.pid)
      ctx.log(`${size.waiters} claims parked in ${round(parkS)} s: RSS ${round(rssBeforeMb)} → ${round(rssWaitingMb)} MiB, ${idleCpuMs} ms CPU in ${IDLE_MS} ms idle`)

      // One task at a time, each once the previous one was claimed: the longest-waiting claim takes it.
      const wakeMs: number[] = []
      for (let i = 0; i < size.warm + size.wakeups; i++) {
        const created = await control.call('POST', '/tasks', { pipeline_id: pipelineId, title: `wake ${i}`, description: 'long-poll bench' }, [201])
        const createdAtMs = performance.now()
        await claims.until(i + 1, WAKE_DEADLINE_MS)
        const answer = claims.answers[i]
        if (answer.status !== 200 || answer.taskId !== created.body.id) {
          throw new Error(`wake-up ${i}: a claim answered ${answer.status} with task ${answer.taskId}, expected ${created.body.id}`)
        }
        if (i >= size.warm) wakeMs.push(answer.atMs - createdAtMs)
      }
      const wake = summarize(wakeMs)
      ctx.log(`wake-up after create: p50 ${round(wake.p50)} ms, p99 ${round(wake.p99)} ms over ${wake.count}`)

      // The rest are released in bulk: every parked claim must get its own task before its deadline.
      const rest = size.waiters - claims.answers.length
      const releaseStarted = performance.now()
      for (let i = 0; i < rest; i += BULK_SIZE) {
        const tasks = Array.from({ length: Math.min(BULK_SIZE, rest - i) }, (_, j) => ({ pipeline_id: pipelineId, title: `rest ${i + j}`, description: 'long-poll bench' }))
        await control.call('POST', '/tasks/bulk', { tasks }, [201])
      }
      await claims.until(size.waiters, RELEASE_DEADLINE_MS)
      const releaseS = (performance.now() - releaseStarted) / 1000
      const handed = claims.answers.filter((a) => a.status === 200)
      const duplicates = handed.length - new Set(handed.map((a) => a.taskId)).size
      const deltaMb = rssWaitingMb - rssBeforeMb
      return {
        metrics: {
          waiters: size.waiters,
          rss_before_mb: round(rssBeforeMb),
          rss_waiting_mb: round(rssWaitingMb),
          waiting_rss_delta_mb: round(deltaMb),
          rss_kib_per_waiter: round((deltaMb * 1024) / size.waiters),
          idle_cpu_ms: idleCpuMs,
          wake_p50_ms: round(wake.p50),
          wake_p99_ms: round(wake.p99),
          wake_max_ms: round(wake.max),
          park_s: round(parkS),
          release_rest_s: round(releaseS),
          not_handed_a_task: size.waiters - handed.length,
          duplicates,
          peak_rss_mb: round(docket.peakRssMb()),
        },
        notes: [
          `RSS is VmRSS after a warm-up, before the claims and after ${IDLE_MS / 1000} s with all of them parked; idle CPU is user + system over those ${IDLE_MS / 1000} s, in 10 ms clock ticks.`,
          `Wake-up: time from a POST /tasks response to the waiting claim's 200, ${wake.count} tasks one at a time (after ${size.warm} unmeasured); then ${rest} tasks in bulk released the rest in ${round(releaseS)} s.`,
          `park_s is from the first claim sent until the server's CPU stood still, so it includes ${(2 * SETTLE_SAMPLE_MS) / 1000} s of settling.`,
        ],
      }
    } finally {
      await claims?.client.destroy()
      await control.close()
      await docket.stop()
    }
  },
}

export default workload
