// Which due slots a schedule fires when its timer comes round: the ones on time always, the missed ones
// (after a downtime, a pause of the process, a clock jump) as its misfire policy says.
import type { ScheduleSpec } from '../domain/schedule.ts'
import type { Occurrences } from './occurrences.ts'

// A slot fired within this of its time is on time, not missed, even under `skip`: a busy event loop or a
// storage lock held by another process can delay a fire by a second or two, and that is not a downtime.
export const ON_TIME_MS = 5_000

// However many slots a fast schedule missed (every second for a day), no more than this are looked at.
const MAX_LOOKED_AT = 10_000

/**
 * Slots in (cursorMs, nowMs] to fire, ascending: `skip` fires only the on-time ones, `latest` the latest
 * slot within catchup_ms, `all` every slot within catchup_ms up to max_catchup (the latest ones).
 */
export function slotsToFire(spec: ScheduleSpec, o: Occurrences, cursorMs: number, nowMs: number): number[] {
  const windowMs = spec.misfire === 'skip' ? ON_TIME_MS : Math.max(spec.catchup_ms, ON_TIME_MS)
  const from = Math.max(cursorMs, nowMs - windowMs - 1)
  switch (spec.misfire) {
    case 'skip': return o.between(from, nowMs, MAX_LOOKED_AT)
    case 'latest': return o.between(from, nowMs, 1)
    case 'all': return o.between(from, nowMs, Math.min(spec.max_catchup, MAX_LOOKED_AT))
  }
}
