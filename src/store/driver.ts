// The storage driver: every operation routes, long-poll waiters and the reaper need, each whole (one
// transaction), async at this boundary. Nothing above src/store/ names SQLite or PostgreSQL; a driver owns
// its SQL. The model is River's riverdriver (one interface, a driver per database, one test suite for all).
import type { CompiledPipeline } from '../domain/pipeline.ts'
import type { LeaseProof } from '../domain/lease.ts'
import type { DecodedSpans } from '../otlp/span.ts'
import type {
  ArtifactFilter, ArtifactRow, AssignmentRow, BulkFilter, BulkItem, Claim, ClaimRequest, DependencyView, EntryRow,
  EventRow, HitRow, IdempotencyKey, LeaseView, NewArtifact, NewTask, PipelineRow, RoleQueueStats, RunRow, Search,
  SignalRequest, SignalResult, SpanFilter, SpanRow, StageOverview, TaskEventRow, TaskFilter, TaskPatch, TaskRow,
  TaskTally, ThroughputMinute, TimeCursor, TransitionRequest, TransitionResult,
} from './types.ts'
import type { ScheduleSpec } from '../domain/schedule.ts'
import type { FireResult, ScheduleControl, ScheduledTaskRow, ScheduleRow, SlotFire } from './schedule-types.ts'

/** Leases found expired: how many (their runs' ids), and how many of their tasks dead-lettered (attempts ran out). */
export type Reaped = { expired: number; deadLettered: number; runIds: readonly string[] }

export const NOTHING_REAPED: Reaped = Object.freeze({ expired: 0, deadLettered: 0, runIds: Object.freeze([]) })

/** SQLite's changes run synchronously inside its group-committed writer; PostgreSQL's are async. */
export type Awaitable<T> = T | Promise<T>

/** `f` of an Awaitable, staying synchronous when it is (a SQLite change must not yield). */
export function mapAwaitable<T, U>(value: Awaitable<T>, f: (t: T) => U): Awaitable<U> {
  return value instanceof Promise ? value.then(f) : f(value)
}


/** Stage counts and live leases for /health: read from counters and indexes, never a scan of tasks. */
export type HealthCounts = { tasks_by_stage: Array<{ stage: string; count: number }>; active_leases: number }

/** Who could claim a role's claimable work right now: anyone (an unassigned task), else these assignees. */
export type Claimants = { anyone: boolean; agents: Set<string> }

/**
 * State changes. `Driver.write` runs exactly one of these per transaction: a change must not call two, since
 * on SQLite it runs synchronously inside a shared batch and on PostgreSQL it awaits its own connection.
 * Each fails with an AppError for a domain outcome (not found, conflict, …), leaving nothing written.
 */
export interface Changes {
  createPipeline(name: string, definition: unknown, compiled: CompiledPipeline, nowMs: number): Awaitable<string>
  setPaused(pipelineId: string, paused: boolean): Awaitable<PipelineRow>
  /** All or nothing; a failing item fails with a TaskItemError naming its index. */
  createTasks(tasks: readonly NewTask[], nowMs: number): Awaitable<string[]>
  addDependency(taskId: string, dependsOn: string, nowMs: number): Awaitable<void>
  removeDependency(taskId: string, dependsOn: string): Awaitable<void>
  assign(taskId: string, agentId: string, assignedBy: string | null, nowMs: number): Awaitable<void>
  unassign(taskId: string, agentId: string, nowMs: number): Awaitable<void>
  cancelTask(taskId: string, reason: string | null, nowMs: number): Awaitable<TaskRow>
  requeueTask(taskId: string, stage: string | null, nowMs: number): Awaitable<TaskRow>
  /** PATCH /tasks/{id}: bumps task_version; an `edited` task event. */
  editTask(taskId: string, patch: TaskPatch, nowMs: number): Awaitable<TaskRow>
  /** The task with its runs, events, artifacts and edges; a live lease is a 409 unless `force`. */
  deleteTask(taskId: string, force: boolean, nowMs: number): Awaitable<void>
  /** Moves a task out of a human gate along a transition of `trigger`; a `signaled` task event. */
  signalTask(taskId: string, req: SignalRequest, nowMs: number): Awaitable<SignalResult>
  /** One batch of a bulk requeue or cancel: each item on its own (one failing does not stop the rest). */
  requeueTasks(taskIds: readonly string[], stage: string | null, nowMs: number): Awaitable<BulkItem[]>
  cancelTasks(taskIds: readonly string[], reason: string | null, nowMs: number): Awaitable<BulkItem[]>

  /** Reaps expired leases first (so a claim sees work they freed), then leases the best task, or null. */
  claim(req: ClaimRequest, nowMs: number): Awaitable<{ claim: Claim | null; reaped: Reaped }>
  /** A fresh token for a run's lease; the previous one stops working (a replayed claim). */
  rotateToken(runId: string): Awaitable<string>
  /**
   * Gives a running lease back without counting an attempt; its task is claimable again `delayMs` after
   * `nowMs`. Given a run id (a claim whose client went away), a run that no longer runs is left alone
   * (false); given a lease proof (POST /leases/{id}/release), the lease must be live and the bearer's, as on
   * every lease route. Forgets `claimKey`'s Idempotency-Key answer, so a retry with that key claims afresh.
   */
  release(lease: string | LeaseProof, reason: string | null, claimKey: IdempotencyKey | null, nowMs: number, delayMs?: number): Awaitable<boolean>
  /** Extends a live lease; returns its new expiry. */
  heartbeat(lease: LeaseProof, ttlMs: number | null, nowMs: number): Awaitable<number>
  appendEvent(lease: LeaseProof, kind: string, data: unknown, nowMs: number): Awaitable<number>
  transition(lease: LeaseProof, req: TransitionRequest, nowMs: number): Awaitable<TransitionResult>
  /**
   * A failed attempt; the retry (if any) comes after `retryDelayMs`, else after the task's retry delay.
   * Returns whether it was the last attempt allowed, so the task is dead-lettered (counted by /metrics).
   */
  fail(lease: LeaseProof, error: string, usage: unknown, nowMs: number, retryDelayMs?: number | null): Awaitable<boolean>
  /** Expired leases become stale runs and count as failed attempts; returns how many. */
  expireDue(nowMs: number): Awaitable<Reaped>

  createArtifact(artifact: NewArtifact, nowMs: number): Awaitable<string>
  putEntry(namespace: string, key: string, valueJson: string, nowMs: number): Awaitable<void>
  deleteEntry(namespace: string, key: string): Awaitable<void>
  deleteNamespace(namespace: string): Awaitable<void>
  ingestSpans(stored: 'json' | 'protobuf', contentType: string, decoded: DecodedSpans, nowMs: number): Awaitable<number>
  storeBlob(contentType: string, blob: Buffer, nowMs: number): Awaitable<number>

  /** Forgets answers older than 24 h; returns how many. */
  sweepAnswers(nowMs: number): Awaitable<number>

  /** Creates or replaces a schedule; a replace that keeps its timing keeps its firing cursor. */
  putSchedule(name: string, spec: ScheduleSpec, paused: boolean, nowMs: number): Awaitable<{ row: ScheduleRow; created: boolean }>
  /** Removes a schedule and its slot records; the tasks it made stay. */
  deleteSchedule(name: string): Awaitable<void>
  /** Pauses or resumes one schedule; a resume fires no slot from before it. */
  pauseSchedule(name: string, paused: boolean, nowMs: number): Awaitable<ScheduleRow>
  /** Pauses or resumes every schedule (the global switch, apart from each one's own). */
  pauseSchedules(paused: boolean, nowMs: number): Awaitable<ScheduleControl>
  /**
   * Records a slot and creates its task, in this one transaction; a scheduled slot already recorded (a
   * replay, another node) changes nothing ('exists'). Overlap, pause and a deleted schedule are checked here.
   */
  fireSlot(fire: SlotFire, nowMs: number): Awaitable<FireResult>
  /** A scheduled slot whose task could not be created (its template no longer fits): recorded, not retried. */
  failSlot(name: string, slotMs: number, error: string, nowMs: number): Awaitable<void>
}

/** Reads: committed data only. */
export interface Reads {
  pipeline(id: string): Promise<PipelineRow | undefined>
  pipelines(): Promise<PipelineRow[]>
  compiledPipeline(id: string): Promise<CompiledPipeline | undefined>
  task(id: string): Promise<TaskRow | undefined>
  /** limit + 1 rows in (created_at_ms, id) order after the cursor; the extra one only says there is more. */
  tasks(filter: TaskFilter): Promise<TaskRow[]>
  /** How many tasks pass the filter (its cursor and limit are ignored): include_total. */
  countTasks(filter: TaskFilter): Promise<number>
  dependencies(taskId: string): Promise<DependencyView[]>
  /** The tasks of these ids that exist (any order). */
  tasksByIds(ids: readonly string[]): Promise<TaskRow[]>
  /** limit + 1 task events after event id `after`. */
  taskEvents(taskId: string, after: number, limit: number): Promise<TaskEventRow[]>
  /** Ids of up to `limit` tasks matching a bulk filter, in (created_at_ms, id) order after the cursor. */
  matchTasks(filter: BulkFilter, after: TimeCursor | null, limit: number): Promise<Array<{ id: string; created_at_ms: number }>>
  /** Tasks waiting at a stage (not dead-lettered or canceled): a human gate's queue. */
  waitingAt(pipelineId: string, stage: string): Promise<number>
  assignments(taskId: string): Promise<AssignmentRow[]>
  run(id: string): Promise<RunRow | undefined>
  latestRun(taskId: string): Promise<RunRow | undefined>
  /** limit + 1 runs of a task in attempt order after attempt `after`. */
  runs(taskId: string, after: number, limit: number): Promise<RunRow[]>
  /** limit + 1 events of a run after event id `after`. */
  events(runId: string, after: number, limit: number): Promise<EventRow[]>
  artifacts(filter: ArtifactFilter): Promise<ArtifactRow[]>
  entry(namespace: string, key: string): Promise<EntryRow | undefined>
  /** Entries in key byte order after `afterKey`, at most `limit` rows. */
  entries(namespace: string, afterKey: string | null, limit: number): Promise<EntryRow[]>
  search(search: Search): Promise<HitRow[]>
  spans(filter: SpanFilter): Promise<SpanRow[]>
  spanCountOfRun(runId: string): Promise<number>
  queue(nowMs: number, nearExpiryMs: number, stuckMs: number): Promise<RoleQueueStats[]>
  health(nowMs: number): Promise<HealthCounts>
  /** Task counts for /metrics: counters and small indexes, never a scan of every task. */
  taskTally(nowMs: number): Promise<TaskTally>
  /** Whether the database answers with every migration applied (GET /ready); else why not. */
  readiness(): Promise<{ ready: true } | { ready: false; reason: string }>
  claimants(role: string, nowMs: number): Promise<Claimants>

  // The console (/ui). Each is read from indexes; none scans every task.
  /** Per (pipeline, stage) that some role claims from, in (pipeline_id, stage) order. */
  stageOverview(nowMs: number): Promise<StageOverview[]>
  /** Completed and failed runs per minute that ended at or after `sinceMs` (minutes with none are left out). */
  throughput(sinceMs: number): Promise<ThroughputMinute[]>
  /** Live leases that expire in (nowMs, untilMs], soonest first, at most `limit`. */
  leasesExpiring(nowMs: number, untilMs: number, limit: number): Promise<LeaseView[]>
  /** The tasks that depend on this one, oldest edge first. */
  dependents(taskId: string): Promise<string[]>
  /** limit + 1 tasks dead-lettered after max attempts, in (created_at_ms, id) order after the cursor. */
  deadLetters(after: TimeCursor | null, limit: number): Promise<TaskRow[]>
  /** Distinct store namespaces in byte order after `after`, at most `limit`. */
  namespaces(after: string | null, limit: number): Promise<string[]>
  schedule(name: string): Promise<ScheduleRow | undefined>
  /** limit + 1 schedules in name (byte) order after `afterName`, whose names start with `prefix`. */
  schedules(prefix: string, afterName: string | null, limit: number): Promise<ScheduleRow[]>
  /** Every schedule: what the timer loads at start. */
  allSchedules(): Promise<ScheduleRow[]>
  scheduleControl(): Promise<ScheduleControl>
  /** limit + 1 tasks a schedule made, newest first, before slot id `beforeSlot`. */
  scheduleTasks(name: string, beforeSlot: number | null, limit: number): Promise<ScheduledTaskRow[]>
}

/** What `Driver.write` records under an Idempotency-Key, in the transaction of the change. */
export type Recording<T> = {
  key: IdempotencyKey | null
  /** SHA-256 of the request body: the same key with another body is 409 idempotency_conflict. */
  requestHash: Buffer
  /** The answer to a change's result (pure: it is what is recorded and sent). */
  answer(result: T): Answer
  /** The body to keep for replays, or null to keep nothing (default: the whole body of any 2xx). */
  recordBody?(answer: Answer): string | null
  /** Turns a recorded answer into the replayed one, inside the transaction (claims rotate the token). */
  replay?(stored: Answer, changes: Changes): Awaitable<Answer>
}

export type WakeListener = {
  /** Work becomes claimable by the clock at `atMs` (not_before_ms, a retry delay). */
  eligibleAt(atMs: number): void
  /** Another process wrote (PostgreSQL NOTIFY); this process's own commits poke the waiters directly. */
  remoteWrite(): void
}

/** Another node changed a schedule (its name), or the global pause or perhaps anything (null: re-read all). */
export type ScheduleListener = (name: string | null) => void

/** An answer as recorded and replayed: a status and its JSON text (null for 204). */
export type Answer = { status: number; body: string | null }

export interface Driver {
  readonly kind: 'sqlite' | 'postgres'
  readonly reads: Reads
  /**
   * Runs `change` (one call of one Changes method) in one transaction with the request's Idempotency-Key
   * record: a recorded answer for the same key and body is replayed instead, another body is 409. Only 2xx
   * answers are recorded; a failed change keeps nothing.
   */
  write<T>(change: (changes: Changes) => Awaitable<T>, recording: Recording<T>): Promise<Answer>
  /** Background work (reaper, sweeps): runs now, or returns null to skip this turn if storage is busy. */
  tryWrite<T>(change: (changes: Changes) => Awaitable<T>): Promise<T> | null
  /** Resolves once writes already answered are visible to reads. */
  settled(): Promise<void>
  /**
   * While a change that had to wait for storage runs: the time it arrived (see the SQLite writer), else
   * null. The app's clock answers with it.
   */
  lateChangeTime(): number | null
  /** The long-poll waiters listen for work that becomes claimable other than by this process's commits. */
  watch(listener: WakeListener): void
  /** The schedule timer hears of schedule changes other nodes make (this node's own it makes itself). */
  watchSchedules(listener: ScheduleListener): void
  close(): Promise<void>
}
