// When a schedule's slots fall: croner for cron expressions (time zones, a seconds field, and the DST rule
// README: Schedules states: a time skipped by spring-forward fires once just after the gap, a time repeated
// by fall-back fires once, the first time), arithmetic for every_ms (counted from the anchor), one instant for at.
import { Cron } from 'croner'
import type { ScheduleSpec } from '../domain/schedule.ts'

export type Occurrences = {
  /** The first slot strictly after `afterMs`, or null if there is none. */
  next(afterMs: number): number | null
  /** Slots in (afterMs, untilMs], ascending; at most the latest `max` of them. */
  between(afterMs: number, untilMs: number, max: number): number[]
}

// A parsed expression holds ≈ 80 KB (croner keeps a table of years), so schedules keep their expression
// and the few distinct ones in use are kept parsed here, the least recently used dropped past this many.
const PARSED_KEPT = 256
const parsed = new Map<string, Cron>()

/** A parsed cron expression (5 fields, or 6 with seconds first); throws on a bad one or an unknown zone. */
export function parseCron(expression: string, timezone: string): Cron {
  const key = `${timezone} ${expression}`
  let cron = parsed.get(key)
  if (cron === undefined) {
    // UTC as a fixed offset: the same times, about ten times faster than through Intl (croner's zone path).
    const zone = timezone === 'UTC' ? { utcOffset: 0 } : { timezone }
    cron = new Cron(expression, { ...zone, mode: '5-or-6-parts', paused: true })
    if (parsed.size >= PARSED_KEPT) parsed.delete(parsed.keys().next().value!)
  } else {
    parsed.delete(key)
  }
  parsed.set(key, cron)
  return cron
}

export function occurrencesOf(spec: ScheduleSpec, anchorMs: number): Occurrences {
  if (spec.cron !== null) return cronOccurrences(parseCron(spec.cron, spec.timezone))
  if (spec.every_ms !== null) return everyOccurrences(anchorMs, spec.every_ms)
  return atOccurrences(spec.at_ms!)
}

/** The next `n` slots after `afterMs` (a schedule's answer lists them). */
export function nextSlots(o: Occurrences, afterMs: number, n: number): number[] {
  const slots: number[] = []
  for (let at = o.next(afterMs); at !== null && slots.length < n; at = o.next(at)) slots.push(at)
  return slots
}

// A forward walk past this many slots (an every-second expression behind a catch-up window of days) would hold
// the event loop for seconds: the latest slots are then taken walking back from the window's end instead.
const MAX_WALK = 20_000

function cronOccurrences(cron: Cron): Occurrences {
  const next = (afterMs: number) => cron.nextRun(new Date(afterMs))?.getTime() ?? null
  /** The latest `max` slots in (afterMs, untilMs], ascending, found walking back from untilMs. */
  const latest = (afterMs: number, untilMs: number, max: number) =>
    cron.previousRuns(max, new Date(untilMs + 1)).map((d) => d.getTime()).filter((at) => at > afterMs && at <= untilMs).reverse()
  return {
    next,
    between(afterMs, untilMs, max) {
      const slots: number[] = []
      let walked = 0
      for (let at = next(afterMs); at !== null && at <= untilMs; at = next(at)) {
        if (++walked > MAX_WALK) return latest(afterMs, untilMs, max)
        slots.push(at)
        if (slots.length > max) slots.shift()
      }
      return slots
    },
  }
}

/** Slots at anchor + k·every, k ≥ 1. */
function everyOccurrences(anchorMs: number, everyMs: number): Occurrences {
  const next = (afterMs: number) => anchorMs + Math.max(1, Math.floor((afterMs - anchorMs) / everyMs) + 1) * everyMs
  return {
    next,
    between(afterMs, untilMs, max) {
      const last = untilMs < anchorMs + everyMs ? null : anchorMs + Math.floor((untilMs - anchorMs) / everyMs) * everyMs
      const slots: number[] = []
      for (let at = last; at !== null && at > afterMs && at > anchorMs && slots.length < max; at -= everyMs) slots.unshift(at)
      return slots
    },
  }
}

function atOccurrences(atMs: number): Occurrences {
  return {
    next: (afterMs) => (atMs > afterMs ? atMs : null),
    between: (afterMs, untilMs, max) => (atMs > afterMs && atMs <= untilMs && max > 0 ? [atMs] : []),
  }
}
