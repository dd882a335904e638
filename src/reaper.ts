import type { Driver, Reaped } from './store/driver.ts'
import type { Clock } from './clock.ts'
import type { Log } from './log.ts'

export const REAPER_PERIOD_MS = 500

/** Expires leases whose time ran out. tick() is callable from tests; start() runs it every 500 ms. */
export function createReaper(deps: { driver: Driver; clock: Clock; log: Log; onReaped(reaped: Reaped): void }) {
  let timer: NodeJS.Timeout | undefined
  const reaper = {
    /** Reaps what is due, and says how many; skips the turn (0) while storage is busy (another process holds SQLite's lock). */
    async tick(): Promise<number> {
      const reaped = await deps.driver.tryWrite((c) => c.expireDue(deps.clock.now()))
      if (reaped == null || reaped.expired === 0) return 0
      deps.onReaped(reaped)
      return reaped.expired
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
