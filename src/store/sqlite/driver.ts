// The SQLite driver: the embedded default. Every change runs synchronously, with statements prepared once,
// inside the group-committed writer (one COMMIT per event-loop turn); reads run on the same connection and
// wait only for the batch they may have seen.
import type { Db } from './db.ts'
import type { Clock } from '../../clock.ts'
import type { Answer, Awaitable, Changes, Driver, Reads, Recording, WakeListener } from '../driver.ts'
import { createStore } from './index.ts'
import { createWriter } from './writer.ts'
import { sqliteFailure } from './failures.ts'
import { createTaskChanges } from './task-changes.ts'
import { createLeaseChanges } from './lease-changes.ts'
import { createLifecycleChanges } from './lifecycle-changes.ts'
import { createScheduleChanges } from './schedule-changes.ts'
import { answerToRecord, recordedAnswer } from '../answers.ts'

export type SqliteDriverOptions = {
  clock: Clock
  /** How long a write waits for a lock another process holds before it fails with 503 storage_busy. */
  lockTimeoutMs: number
}

export function createSqliteDriver(db: Db, options: SqliteDriverOptions): Driver {
  const listeners: WakeListener[] = []
  // The store tells of every time at which a task becomes claimable by the clock; a change that rolls back
  // only causes a needless wake-up.
  const onEligibleAt = (atMs: number) => { for (const l of listeners) l.eligibleAt(atMs) }
  const store = createStore(db, onEligibleAt)
  const writer = createWriter(db, {
    clock: options.clock,
    lockTimeoutMs: options.lockTimeoutMs,
    onAbort: () => store.pipelines.forgetCompiled(),
  })
  const now = () => writer.lateChangeTime() ?? options.clock.now()

  const taskChanges = createTaskChanges(store)
  const changes: Changes = {
    ...taskChanges,
    ...createScheduleChanges(store, taskChanges.createTasks),
    ...createLeaseChanges(store),
    ...createLifecycleChanges(db, store, onEligibleAt),
    createPipeline: (name, definition, compiled, nowMs) => store.pipelines.create(name, definition, compiled, nowMs),
    setPaused: (id, paused) => store.pipelines.setPaused(id, paused),
    createArtifact: (artifact, nowMs) => store.artifacts.create(artifact, nowMs),
    putEntry: (ns, key, valueJson, nowMs) => store.kv.put(ns, key, valueJson, nowMs),
    deleteEntry: (ns, key) => store.kv.remove(ns, key),
    deleteNamespace: (ns) => store.kv.removeNamespace(ns),
    ingestSpans: (stored, contentType, decoded, nowMs) => store.spans.ingest(stored, contentType, decoded, nowMs),
    storeBlob: (contentType, blob, nowMs) => store.spans.storeBlob(contentType, blob, nowMs),
    sweepAnswers: (nowMs) => store.idempotency.sweepExpired(nowMs),
  }

  /** The change with its Idempotency-Key record, synchronously, inside the writer's batch. */
  function once<T>(change: (c: Changes) => Awaitable<T>, recording: Recording<T>): Answer {
    const stored = recording.key === null ? undefined : store.idempotency.find(recording.key, now())
    if (stored !== undefined) {
      const replayed = recordedAnswer(stored, recording as Recording<unknown>)
      return recording.replay ? synchronous(recording.replay(replayed, changes)) : replayed
    }
    const fresh = recording.answer(synchronous(change(changes)))
    const kept = recording.key === null ? null : answerToRecord(fresh, recording as Recording<unknown>)
    if (kept !== null) store.idempotency.save(recording.key!, recording.requestHash, kept.status, kept.body, now())
    return fresh
  }

  const reads: Reads = guardReads({
    pipeline: (id) => store.pipelines.get(id),
    pipelines: () => store.pipelines.list(),
    compiledPipeline: (id) => store.pipelines.compiled(id),
    task: (id) => store.tasks.get(id),
    tasks: (filter) => store.taskPages.list(filter),
    countTasks: (filter) => store.taskPages.count(filter),
    dependencies: (taskId) => store.dependencies.list(taskId),
    tasksByIds: (ids) => store.taskLookups.byIds(ids),
    taskEvents: (taskId, after, limit) => store.taskEvents.listOf(taskId, after, limit),
    matchTasks: (filter, after, limit) => store.taskLookups.match(filter, after, limit),
    waitingAt: (pipelineId, stage) => store.taskLookups.waitingAt(pipelineId, stage),
    assignments: (taskId) => store.assignments.list(taskId),
    run: (id) => store.runs.get(id),
    latestRun: (taskId) => store.runs.latestOf(taskId),
    runs: (taskId, after, limit) => store.runs.listOf(taskId, after, limit),
    events: (runId, after, limit) => store.events.listOf(runId, after, limit),
    artifacts: (filter) => store.artifacts.list(filter),
    entry: (ns, key) => store.kv.get(ns, key),
    entries: (ns, afterKey, limit) => store.kv.list(ns, afterKey, limit),
    search: (search) => store.kv.search(search),
    spans: (filter) => store.spans.list(filter),
    spanCountOfRun: (runId) => store.spans.spanCountOfRun(runId),
    queue: (nowMs, nearExpiryMs, stuckMs) => store.ops.queue(nowMs, nearExpiryMs, stuckMs),
    health: (nowMs) => ({ tasks_by_stage: store.health.tasksByStage(), active_leases: store.health.activeLeases(nowMs) }),
    claimants: (role, nowMs) => store.leases.claimableBy(role, nowMs),
    stageOverview: (nowMs) => store.console.stageOverview(nowMs),
    throughput: (sinceMs) => store.console.throughput(sinceMs),
    leasesExpiring: (nowMs, untilMs, limit) => store.console.leasesExpiring(nowMs, untilMs, limit),
    dependents: (taskId) => store.console.dependents(taskId),
    deadLetters: (after, limit) => store.console.deadLetters(after, limit),
    namespaces: (after, limit) => store.console.namespaces(after, limit),
    schedule: (name) => store.schedules.get(name),
    schedules: (prefix, afterName, limit) => store.schedules.list(prefix, afterName, limit),
    allSchedules: () => store.schedules.all(),
    scheduleControl: () => store.schedules.control(),
    scheduleTasks: (name, beforeSlot, limit) => store.schedules.tasks(name, beforeSlot, limit),
    taskTally: (nowMs) => store.tally.tally(nowMs),
    readiness: () => store.health.readiness(),
  })

  return {
    kind: 'sqlite',
    reads,
    write: (change, recording) => writer.run(() => once(change, recording)).catch(rethrowAsAnswer),
    tryWrite: (change) => writer.tryRun(() => synchronous(change(changes)))?.catch(rethrowAsAnswer) ?? null,
    settled: writer.settled,
    lateChangeTime: writer.lateChangeTime,
    // One server per file (src/store/sqlite/server-lock.ts): every write is this process's own.
    watch: (listener) => { listeners.push(listener) },
    // Only this process writes the file: the timer hears of every change from the routes that make it.
    watchSchedules: () => {},
    close: async () => {},
  }
}

/** A change on this driver must not be async: it runs inside a batch that commits when the turn ends. */
function synchronous<T>(value: Awaitable<T>): T {
  if (value instanceof Promise) throw new Error('a SQLite change must be synchronous')
  return value
}

function rethrowAsAnswer(err: unknown): never {
  throw sqliteFailure(err) ?? err
}

type SyncReads = { [K in keyof Reads]: (...args: Parameters<Reads[K]>) => Awaited<ReturnType<Reads[K]>> }

/** Reads run synchronously; a lock or disk failure becomes its answer (503/507) like a write's. */
function guardReads(sync: SyncReads): Reads {
  const reads = {} as Record<string, (...args: unknown[]) => Promise<unknown>>
  for (const [name, read] of Object.entries(sync) as Array<[string, (...args: unknown[]) => unknown]>) {
    reads[name] = (...args) => {
      try {
        return Promise.resolve(read(...args))
      } catch (err) {
        return Promise.reject(sqliteFailure(err) ?? err)
      }
    }
  }
  return reads as unknown as Reads
}
