import type { Writer } from './store/sqlite/writer.ts'
import type { Store } from './store/sqlite/index.ts'
import type { Clock } from './clock.ts'
import type { Log } from './log.ts'

export const REAPER_PERIOD_MS = 500

/** Expires leases whose time ran out. tick() is callable from tests; start() runs it every 500 ms. */
export function createReaper(deps: { writer: Writer; store: Store; clock: Clock; log: Log; onReaped(): void }) {
  let timer: NodeJS.Timeout | undefined
  const reaper = {
    /** Reaps what is due; skips the turn (0) while another process holds the write lock. */
    async tick(): Promise<number> {
      const reaped = (await deps.writer.tryRun(() => deps.store.outcomes.expireDue(deps.clock.now()))) ?? 0
      if (reaped > 0) deps.onReaped()
      return reaped
    },
    start(): void {
      timer = setInterval(() => reaper.tick().catch((err) => deps.log.error('reaper tick failed', err)), REAPER_PERIOD_MS).unref()
    },
    stop(): void {
      clearInterval(timer)
    },
  }
  return reaper
}
