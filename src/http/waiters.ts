import type { Reply } from './reply.ts'
import type { Clock } from '../clock.ts'
import { noContent } from './reply.ts'
import type { Claimants } from '../store/driver.ts'

// setTimeout holds at most 2^31-1 ms; a later wake time re-arms when this one fires.
const MAX_TIMER_MS = 2 ** 31 - 1

type Waiter = {
  agentId: string
  attempt: () => Promise<Reply>
  settle: (result: { reply?: Reply; error?: unknown }) => void
  /**
   * While its claim is being attempted, a waiter is answered only by that attempt: a deadline, a shutdown
   * or a disconnect in the meantime just marks it done, so a lease that attempt commits is either delivered
   * or (client gone) given back by the claim route, never left held by nobody.
   */
  isAttempting: boolean
  isDone: boolean
}

/**
 * Long-poll claims. A claim with nothing to take waits here, in a FIFO per role, until a committed write
 * may have made work claimable (poke), a scheduled eligibility time passes (wakeAt), or its deadline.
 * Nothing polls the database: a poke retries the claim of the longest-waiting agent of each role, then
 * the next, until one finds nothing.
 */
export function createWaiters(clock: Clock, claimantsOf: (role: string) => Promise<Claimants>) {
  const queues = new Map<string, Waiter[]>()
  // One drain at a time: two would attempt the same waiter, and both claims could commit.
  let isDraining = false
  let isPoked = false
  const wakeTimes: number[] = [] // sorted ascending; a timer is armed for the first
  let wakeTimer: NodeJS.Timeout | undefined

  function remove(role: string, w: Waiter): void {
    const queue = queues.get(role)
    const i = queue?.indexOf(w) ?? -1
    if (i >= 0) queue!.splice(i, 1)
    if (queue?.length === 0) queues.delete(role)
  }

  /** Deadline, disconnect or shutdown: answer 204 now, or, mid-attempt, with whatever the attempt brings. */
  function finish(role: string, w: Waiter): void {
    w.isDone = true
    if (w.isAttempting) return
    remove(role, w)
    w.settle({})
  }

  async function drain(): Promise<void> {
    try {
      while (isPoked) {
        isPoked = false
        for (const [role, queue] of [...queues]) {
          // Who may still find work once a waiter found none: everyone, only some agents, or nobody.
          let eligible: Claimants | null = null
          let i = 0
          while (i < queue.length) {
            const w = queue[i]
            if (eligible !== null && !eligible.anyone && !eligible.agents.has(w.agentId)) {
              i += 1
              continue
            }
            let reply: Reply
            w.isAttempting = true
            try {
              reply = await w.attempt()
            } catch (error) {
              remove(role, w)
              w.settle({ error })
              continue
            } finally {
              w.isAttempting = false
            }
            if (reply.status !== 204 || w.isDone) {
              remove(role, w)
              w.settle({ reply })
              continue
            }
            // A commit since this pass began may have made work claimable for the waiters already passed
            // over: the next pass starts again from the longest-waiting one.
            if (isPoked) break
            // Nothing for this agent. Nothing claimable for the role at all: nobody behind it gets anything
            // either. Only tasks assigned to others: only those agents need to try. Otherwise (this claim's
            // own per_state limits held it back) the next waiter may take the work.
            const at = queue.indexOf(w)
            try {
              eligible = await claimantsOf(role)
            } catch {
              break // storage busy: the next poke tries again
            }
            if ((!eligible.anyone && eligible.agents.size === 0) || isPoked) break
            // The waiter may have left (its deadline) while the claimants were read.
            i = queue[at] === w ? at + 1 : at
          }
        }
      }
    } finally {
      isDraining = false
    }
  }

  function armWakeTimer(): void {
    clearTimeout(wakeTimer)
    if (wakeTimes.length === 0) return
    wakeTimer = setTimeout(() => {
      const now = clock.now()
      while (wakeTimes.length > 0 && wakeTimes[0] <= now) wakeTimes.shift()
      waiters.poke()
      armWakeTimer()
    }, Math.min(MAX_TIMER_MS, Math.max(0, wakeTimes[0] - clock.now()))).unref()
  }

  const waiters = {
    /** Someone may have made work claimable: retry waiting claims soon (once per event-loop turn). */
    poke(): void {
      if (queues.size === 0) return
      isPoked = true
      if (isDraining) return
      isDraining = true
      setImmediate(() => void drain())
    },

    /** Work becomes claimable by the clock at `atMs` (a retry delay, not_before_ms). */
    wakeAt(atMs: number): void {
      if (atMs <= clock.now()) return waiters.poke()
      const i = wakeTimes.findIndex((t) => t >= atMs)
      if (wakeTimes[i] === atMs) return
      wakeTimes.splice(i < 0 ? wakeTimes.length : i, 0, atMs)
      if (i === 0 || wakeTimes.length === 1) armWakeTimer()
    },

    hasWaiters(role: string): boolean {
      return queues.has(role)
    },

    count(): number {
      let n = 0
      for (const q of queues.values()) n += q.length
      return n
    },

    /** Waits up to `waitMs` for `attempt` to find work; 204 at the deadline, on disconnect or on close. */
    wait(role: string, agentId: string, waitMs: number, signal: AbortSignal, attempt: () => Promise<Reply>): Promise<Reply> {
      return new Promise<Reply>((resolve, reject) => {
        const w: Waiter = {
          agentId,
          attempt,
          isAttempting: false,
          isDone: false,
          settle: ({ reply, error }) => {
            clearTimeout(deadline)
            signal.removeEventListener('abort', stop)
            if (error !== undefined) reject(error)
            else resolve(reply ?? noContent())
          },
        }
        const stop = () => finish(role, w)
        const deadline = setTimeout(stop, waitMs)
        signal.addEventListener('abort', stop, { once: true })
        const queue = queues.get(role)
        if (queue === undefined) queues.set(role, [w])
        else queue.push(w)
        waiters.poke()
      })
    },

    /** Shutdown: every waiting claim answers 204 now; one being attempted, once its attempt is done. */
    close(): void {
      clearTimeout(wakeTimer)
      for (const [role, queue] of [...queues]) for (const w of [...queue]) finish(role, w)
    },
  }
  return waiters
}

export type Waiters = ReturnType<typeof createWaiters>
