// Wake-ups between nodes (listen.ts) go out after the change that makes work claimable commits, from this
// node, a few at a time: a NOTIFY inside every change's transaction cost each commit a notification in
// the server's queue, a signal to every listening session and a message to every node, one per claim →
// transition cycle. Here, the first wake-up after a quiet spell goes out at once; those that come within
// SPACING_MS of the last send wait for it and go out together, each payload once. So a node sends at most
// 1000 / SPACING_MS notifications a second however fast it commits, and a remote waiter hears of work at
// most that much later (this node's own waiters are poked by the commit itself: http/commit.ts).
//
// A wake-up is a latency hint, never the only path: one lost (this node stops between a commit and its
// send, the send fails) delays a remote waiter by at most the driver's periodic re-check. So the send
// commits without waiting for its WAL flush (synchronous_commit off for that transaction alone).
import type pg from 'pg'
import { statement } from './sql.ts'
import { WAKE_CHANNEL } from './context.ts'

/** The least time between two sends of one node. */
export const SPACING_MS = 5

// Payloads: '' for claimable now, else the epoch ms it will be (context.ts).
const notify = statement('wake_notify', `
  SELECT count(pg_notify('${WAKE_CHANNEL}', w)) AS n
  FROM set_config('synchronous_commit', 'off', true), unnest($1::text[]) w`)

export type Waker = {
  /** Wake-ups of a committed change. */
  send(payloads: Iterable<string>): void
  /** Sends what is pending now and waits for it. */
  close(): Promise<void>
}

export function createWaker(pool: pg.Pool, onError: (err: Error) => void, spacingMs = SPACING_MS): Waker {
  const pending = new Set<string>()
  let lastSentAt = -Infinity
  let timer: NodeJS.Timeout | undefined
  let inFlight: Promise<void> | null = null

  function flush(): void {
    timer = undefined
    if (pending.size === 0) return
    if (inFlight !== null) return schedule() // one send at a time: the next waits for this one
    const payloads = [...pending]
    pending.clear()
    lastSentAt = performance.now()
    inFlight = notify.run(pool, [payloads]).then(
      () => {},
      (err) => onError(err as Error),
    ).finally(() => {
      inFlight = null
      if (pending.size > 0) schedule()
    })
  }

  function schedule(): void {
    if (timer !== undefined) return
    const wait = lastSentAt + spacingMs - performance.now()
    if (wait <= 0 && inFlight === null) return flush()
    timer = setTimeout(flush, Math.max(0, wait))
    timer.unref()
  }

  return {
    send(payloads) {
      for (const p of payloads) pending.add(p)
      if (pending.size > 0) schedule()
    },
    async close() {
      clearTimeout(timer)
      timer = undefined
      await inFlight
      if (pending.size > 0) {
        const payloads = [...pending]
        pending.clear()
        await notify.run(pool, [payloads]).catch((err) => onError(err as Error))
      }
    },
  }
}
