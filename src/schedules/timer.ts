// Fires schedules with one timer: it is set to the earliest due time of all of them (due-heap.ts) and set
// again whenever a schedule changes. Nothing polls the database; each fire is one transaction that records
// its slot with its task (Changes.fireSlot), so a fire repeated after a restart, a clock jump or on a
// second node is a no-op. At start every schedule's firing cursor is read back from storage, and whatever
// fell due while the process was down is fired as each schedule's misfire policy says (misfire.ts).
import type { Clock } from '../clock.ts'
import type { Log } from '../log.ts'
import type { Driver } from '../store/driver.ts'
import type { ScheduleRow } from '../store/schedule-types.ts'
import type { ScheduleSpec } from '../domain/schedule.ts'
import { AppError } from '../domain/errors.ts'
import { createDueHeap } from './due-heap.ts'
import { occurrencesOf } from './occurrences.ts'
import { slotsToFire } from './misfire.ts'
import { renderTask } from './template.ts'

// setTimeout holds at most 2^31-1 ms; a later due time re-arms when this one fires.
const MAX_TIMER_MS = 2 ** 31 - 1
// Storage busy (SQLite's batch is full, or another process holds its lock): the slot is tried again soon.
const BUSY_RETRY_MS = 25
// Storage failing: the slot is tried again this much later.
const FAILED_RETRY_MS = 1_000
// Schedules due together fire this many at a time, so SQLite commits them in shared batches and a
// PostgreSQL pool is not drained by the timer alone.
const FIRE_CONCURRENCY = 64

// No parsed cron is kept per schedule (occurrences.ts: ≈ 80 KB each); one is made when the entry is due.
type Entry = { row: ScheduleRow; spec: ScheduleSpec; cursorMs: number }
type Fired = 'ok' | 'busy' | 'failed' | 'stop'

export type Scheduler = ReturnType<typeof createScheduler>

export function createScheduler(deps: { driver: Driver; clock: Clock; log: Log }) {
  const { driver, clock, log } = deps
  const heap = createDueHeap()
  const entries = new Map<string, Entry>()
  let control = { paused: 0, resumed_at_ms: 0 }
  // Loads, reloads and ticks run one at a time, in the order asked.
  let chain: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined
  let isRunning = false

  function enqueue(work: () => Promise<void>): Promise<void> {
    chain = chain.then(() => (isRunning ? work() : undefined)).catch((err) => log.error('schedule timer failed', err)).then(arm)
    return chain
  }

  function arm(): void {
    clearTimeout(timer)
    const atMs = heap.peek()
    if (!isRunning || atMs === null) return
    timer = setTimeout(() => void enqueue(tick), Math.min(Math.max(0, atMs - clock.now()), MAX_TIMER_MS))
    timer.unref()
  }

  /** Takes a row as stored: its firing cursor, and when it is next due (never, while paused). */
  function put(row: ScheduleRow): void {
    const spec = JSON.parse(row.spec_json) as ScheduleSpec
    const entry: Entry = { row, spec, cursorMs: Math.max(row.since_ms, row.last_slot_ms ?? -Infinity, control.resumed_at_ms) }
    entries.set(row.name, entry)
    heap.set(row.name, row.paused === 1 || control.paused === 1 ? null : occurrencesOf(spec, row.anchor_ms).next(entry.cursorMs))
  }

  async function loadAll(): Promise<void> {
    const [c, rows] = await Promise.all([driver.reads.scheduleControl(), driver.reads.allSchedules()])
    control = c
    heap.clear()
    entries.clear()
    for (const row of rows) put(row)
  }

  async function reload(name: string): Promise<void> {
    const [c, row] = await Promise.all([driver.reads.scheduleControl(), driver.reads.schedule(name)])
    if (c.paused !== control.paused || c.resumed_at_ms !== control.resumed_at_ms) return loadAll()
    if (row !== undefined) return put(row)
    entries.delete(name)
    heap.set(name, null)
  }

  async function fire(name: string, slotMs: number): Promise<Fired> {
    try {
      const render = (row: ScheduleRow) => renderTask(row, slotMs)
      const pending = driver.tryWrite((c) => c.fireSlot({ name, slotMs, manual: false, render }, clock.now()))
      if (pending === null) return 'busy'
      const { outcome } = await pending
      if (outcome === 'gone' || outcome === 'paused') {
        await reload(name)
        return 'stop'
      }
      return 'ok'
    } catch (err) {
      // Storage busy or full (503, 507) or broken: tried again later. A 4xx is the template's own fault.
      if (!(err instanceof AppError) || err.status >= 500) {
        log.error(`schedule ${name}: firing slot ${slotMs} failed`, err)
        return 'failed'
      }
      // The template no longer makes a valid task: recorded, not retried.
      log.error(`schedule ${name}: slot ${slotMs} makes no task (${err.code}: ${err.message})`)
      await driver.tryWrite((c) => c.failSlot(name, slotMs, `${err.code}: ${err.message}`, clock.now()))
      return 'ok'
    }
  }

  async function fireDue(name: string, nowMs: number): Promise<void> {
    const entry = entries.get(name)
    if (entry === undefined) return
    const occurrences = occurrencesOf(entry.spec, entry.row.anchor_ms)
    for (const slotMs of slotsToFire(entry.spec, occurrences, entry.cursorMs, nowMs)) {
      const fired = await fire(name, slotMs)
      if (fired === 'stop') return
      if (fired === 'busy' || fired === 'failed') {
        if (entries.get(name) === entry) heap.set(name, nowMs + (fired === 'busy' ? BUSY_RETRY_MS : FAILED_RETRY_MS))
        return
      }
    }
    if (entries.get(name) !== entry) return // changed meanwhile: its new entry is in the heap already
    entry.cursorMs = Math.max(entry.cursorMs, nowMs)
    heap.set(name, occurrences.next(entry.cursorMs))
  }

  async function tick(): Promise<void> {
    const nowMs = clock.now()
    const due = heap.takeDue(nowMs)
    for (let i = 0; i < due.length; i += FIRE_CONCURRENCY) {
      await Promise.all(due.slice(i, i + FIRE_CONCURRENCY).map((name) => fireDue(name, nowMs)))
    }
  }

  return {
    /** Loads every schedule and fires what is due (missed slots by each one's misfire policy). */
    start(): Promise<void> {
      isRunning = true
      return enqueue(loadAll)
    },
    /** A schedule was put, deleted, paused or resumed (null: the global switch, or anything). */
    changed(name: string | null): Promise<void> {
      return enqueue(() => (name === null ? loadAll() : reload(name)))
    },
    /** Fires what is due by the clock now; tests call it after moving a manual clock. */
    tick(): Promise<void> {
      return enqueue(tick)
    },
    stop(): void {
      isRunning = false
      clearTimeout(timer)
    },
  }
}
