// The one place that reads the wall clock; everything else takes a Clock so tests can move time.
export type Clock = { now(): number }

export const systemClock: Clock = { now: () => Date.now() }

export type ManualClock = Clock & { advance(ms: number): void; set(ms: number): void }

export function manualClock(startMs = 1_700_000_000_000): ManualClock {
  let nowMs = startMs
  return {
    now: () => nowMs,
    advance: (ms) => { nowMs += ms },
    set: (ms) => { nowMs = ms },
  }
}
