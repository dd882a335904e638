// The PostgreSQL driver: many Docket nodes on one database. Every change runs in its own transaction on a
// pooled connection; reads run on the pool. Nodes hear of each other's writes through LISTEN/NOTIFY (sent
// after each commit, a few at a time: wakes.ts), with a periodic re-check as the backstop (a notification
// sent while a LISTEN session was down is lost).
import type { Clock } from '../../clock.ts'
import type { Log } from '../../log.ts'
import type { Answer, Awaitable, Changes, Driver, Reads, Recording, WakeListener } from '../driver.ts'
import { openPool } from './connect.ts'
import { Tx } from './tx.ts'
import { createWaker } from './wakes.ts'
import { migrate } from './migrate.ts'
import { startListener, type Listener } from './listen.ts'
import { createContext, WAKE_CHANNEL, type TxChanges } from './context.ts'
import { findAnswer, lockAnswer, saveAnswer, sweepAnswers } from './answers.ts'
import { isRetryable, pgFailure } from './failures.ts'
import { answerToRecord, recordedAnswer } from '../answers.ts'
import { pipelinesChanges, pipelinesReads } from './pipelines.ts'
import { tasksChanges, tasksReads } from './tasks.ts'
import { createSearchRefresh } from './task-search-refresh.ts'
import { runsChanges, runsReads } from './runs.ts'
import { artifactsChanges, artifactsReads } from './artifacts.ts'
import { entriesChanges, entriesReads } from './entries.ts'
import { spansChanges, spansReads } from './spans.ts'
import { opsReads } from './ops.ts'
import { consoleReads } from './console.ts'
import { lifecycleChanges, lifecycleReads } from './lifecycle.ts'
import { SCHEDULE_CHANNEL, schedulesChanges, schedulesReads } from './schedules.ts'
import { tallyReads } from './tally.ts'

export type PostgresDriverOptions = {
  url: string
  poolSize: number
  clock: Clock
  log: Log
  /** How often waiters re-check without a notification (a lost NOTIFY delays work by at most this). */
  recheckMs?: number
}

const RECHECK_MS = 2_000
/** A serialization failure or deadlock is retried this many times before it is answered. */
const MAX_RETRIES = 3

/** Connects (a clear error within the connect timeout if it cannot), migrates, and starts listening. */
export async function openPostgresDriver(options: PostgresDriverOptions): Promise<Driver> {
  const { clock, log } = options
  const pool = await openPool(options.url, { size: options.poolSize, onError: (err) => log.error('PostgreSQL connection failed', err) })
  let listener: Listener | undefined
  try {
    await migrate(pool)
    listener = await startListener(options.url, { onError: (err) => log.error('PostgreSQL LISTEN session failed', err) })
  } catch (err) {
    await pool.end().catch(() => {})
    throw err
  }
  const ctx = createContext(clock)
  const waker = createWaker(pool, (err) => log.error('PostgreSQL wake-up failed to go out', err))
  const runChanges = runsChanges(ctx)
  const txChanges: TxChanges = {
    ...pipelinesChanges(ctx),
    ...tasksChanges(ctx),
    ...runChanges,
    ...lifecycleChanges(ctx, runChanges),
    ...artifactsChanges(ctx),
    ...entriesChanges(ctx),
    ...spansChanges(ctx),
    ...schedulesChanges(ctx),
    sweepAnswers: (tx, nowMs) => sweepAnswers(tx, nowMs),
  }
  // Tasks from before the task search migration start stale: their vectors are written from the start.
  const searchRefresh = createSearchRefresh(pool, log)
  searchRefresh.poke()
  const reads: Reads = {
    ...pipelinesReads(pool, ctx),
    ...tasksReads(pool, ctx, searchRefresh),
    ...runsReads(pool, ctx),
    ...artifactsReads(pool, ctx),
    ...entriesReads(pool, ctx),
    ...spansReads(pool, ctx),
    ...opsReads(pool, ctx),
    ...consoleReads(pool),
    ...lifecycleReads(pool),
    ...schedulesReads(pool),
    ...tallyReads(pool),
  }

  /** The Changes of one transaction: every method bound to its client. */
  function changesOf(tx: Tx): Changes {
    const bound = {} as Record<string, unknown>
    for (const [name, change] of Object.entries(txChanges)) {
      bound[name] = (...args: unknown[]) => (change as (tx: Tx, ...a: unknown[]) => Promise<unknown>)(tx, ...args)
    }
    return bound as unknown as Changes
  }

  /**
   * One transaction: the work, then COMMIT; a serialization failure or deadlock runs it again. BEGIN goes
   * out with the work's first statement that needs a transaction; a change of one statement that may stand
   * alone runs without either (tx.ts). The locks the changes take (advisory, FOR UPDATE, FOR SHARE) assume
   * each statement sees what committed before it: READ COMMITTED, whatever the server's default isolation is.
   */
  async function inTransaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await pool.connect().catch((err) => { throw pgFailure(err) ?? err })
      const tx = new Tx(client)
      try {
        const result = await work(tx)
        await tx.commit()
        waker.send(tx.wakes)
        return result
      } catch (err) {
        await tx.rollback()
        if (attempt < MAX_RETRIES && isRetryable(err)) continue
        throw pgFailure(err) ?? err
      } finally {
        client.release()
      }
    }
  }

  async function once<T>(tx: Tx, change: (c: Changes) => Awaitable<T>, recording: Recording<T>): Promise<Answer> {
    const { key } = recording
    const changes = changesOf(tx)
    if (key === null) return recording.answer(await change(changes))
    // Two requests with one key, on any nodes, take turns here: the second finds the first's answer.
    await lockAnswer(tx, key)
    const stored = await findAnswer(tx, key, clock.now())
    if (stored !== undefined) {
      const replayed = recordedAnswer(stored, recording as Recording<unknown>)
      return recording.replay ? recording.replay(replayed, changes) : replayed
    }
    const fresh = recording.answer(await change(changes))
    const kept = answerToRecord(fresh, recording as Recording<unknown>)
    if (kept !== null) await saveAnswer(tx, key, recording.requestHash, kept.status, kept.body, clock.now())
    return fresh
  }

  const listeners: WakeListener[] = []
  const recheck = setInterval(() => { for (const l of listeners) l.remoteWrite() }, options.recheckMs ?? RECHECK_MS).unref()
  await listener.onNotify(WAKE_CHANNEL, (payload) => {
    // null: the session reconnected and may have missed some; '' : claimable now; else the epoch ms it will be.
    const atMs = payload === null || payload === '' ? null : Number(payload)
    for (const l of listeners) {
      if (atMs === null || !Number.isSafeInteger(atMs)) l.remoteWrite()
      else l.eligibleAt(atMs)
    }
  })

  // Schedule changes are rare and each names its schedule, so the timer re-reads just that one when told;
  // after a reconnect (null) it re-reads them all, since notifications may have been lost meanwhile. No
  // periodic re-read: a fire re-checks its schedule in its own transaction, so a timer that has not heard
  // of a change yet can at worst fire a deleted or paused schedule's slot as a no-op, or fire late.
  const scheduleListeners: Array<(name: string | null) => void> = []
  await listener.onNotify(SCHEDULE_CHANNEL, (payload) => {
    for (const l of scheduleListeners) l(payload === null || payload === '' ? null : payload)
  })

  return {
    kind: 'postgres',
    reads,
    write: (change, recording) => inTransaction((tx) => once(tx, change, recording)),
    tryWrite: (change) => inTransaction(async (tx) => change(changesOf(tx))),
    settled: () => Promise.resolve(),
    lateChangeTime: () => null,
    watch: (listener) => { listeners.push(listener) },
    watchSchedules: (listener) => { scheduleListeners.push(listener) },
    async close() {
      clearInterval(recheck)
      await searchRefresh.stop()
      await listener!.close()
      await waker.close()
      await pool.end()
    },
  }
}
