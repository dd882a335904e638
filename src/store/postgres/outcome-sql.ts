// How a run's end reaches PostgreSQL: the rows it changes are locked and read (one statement), outcomes.ts
// decides in JavaScript what becomes of them (the same rules as SQLite's), and one statement writes it all —
// the runs ended, the tasks as they are to be, their dependents' open counts and the events in order (the
// wake-ups go out once it commits: wakes.ts). Two round trips whatever the outcome, whether one run ends or
// a reaper's batch of 500.
//
// Locks: a task before its run, always (FOR UPDATE OF t, r locks in that order), as cancel and requeue
// (the task alone, then the run through the write) and the claim (the task, then a new run) do. A lease's
// own routes that touch only the run (heartbeat, events) lock only the run. So two changes of one task wait
// for each other instead of deadlocking, and each re-reads what the other committed (EvalPlanQual) before
// deciding: two nodes transitioning one run at once cannot both win.
import type { Tx } from './tx.ts'
import { statement } from './sql.ts'
import type { RunStatus } from '../../domain/status.ts'
import type { TaskRow } from '../types.ts'

/** What the lease rules read of a run (domain/lease.ts), read with its task. */
export type RunState = { id: string; status: RunStatus; lease_expires_at_ms: number | null; lease_token_hash: Buffer }

/** A task and one of its runs, both locked. */
export type Locked = { task: TaskRow; run: RunState }

export type LockedRow = TaskRow & { run_id: string; run_status: RunStatus; run_lease_expires_at_ms: number | null; run_lease_token_hash: Buffer }

const RUN_COLUMNS = `r.id AS run_id, r.status AS run_status, r.lease_expires_at_ms AS run_lease_expires_at_ms,
  r.lease_token_hash AS run_lease_token_hash`

const lockByRun = statement<LockedRow>('outcome_lock_run', `
  SELECT t.*, ${RUN_COLUMNS} FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.id = $1 FOR UPDATE OF t, r`)
// Expired leases, oldest first. SKIP LOCKED: every node's reaper (and every claim) runs this; a run another
// one is reaping, or whose task or run another change holds, is left to it or to the next tick. A lease
// heartbeated after this statement began is re-checked once locked and dropped.
const lockDue = statement<LockedRow>('outcome_lock_due', `
  SELECT t.*, ${RUN_COLUMNS} FROM runs r JOIN tasks t ON t.id = r.task_id
  WHERE r.lease_expires_at_ms <= $1 ORDER BY r.lease_expires_at_ms LIMIT $2 FOR UPDATE OF t, r SKIP LOCKED`)
const lockTaskRow = statement<TaskRow>('outcome_lock_task', 'SELECT * FROM tasks WHERE id = $1 FOR UPDATE')

function split(row: LockedRow): Locked {
  const { run_id: id, run_status: status, run_lease_expires_at_ms: expires, run_lease_token_hash: hash, ...task } = row
  return { task, run: { id, status, lease_expires_at_ms: expires, lease_token_hash: hash } }
}

/** The run and its task, locked; undefined for an unknown run. */
export async function lockRun(tx: Tx, runId: string): Promise<Locked | undefined> {
  const row = await lockByRun.one(tx, [runId])
  return row === undefined ? undefined : split(row)
}

/** Up to `max` runs whose lease ran out by `nowMs`, with their tasks, locked (none another change holds). */
export async function lockExpired(tx: Tx, nowMs: number, max: number): Promise<Locked[]> {
  return (await lockDue.all(tx, [nowMs, max])).map(split)
}

export function lockTask(tx: Tx, taskId: string): Promise<TaskRow | undefined> {
  return lockTaskRow.one(tx, [taskId])
}

/** What one change writes; built by outcomes.ts from rows it locked. */
export type Outcome = {
  /** Runs that end: status, and usage and error text where given (else kept). */
  ended: Array<{ id: string; status: RunStatus; usage: string | null; error: string | null }>
  /** Locked tasks as they are to be (their open_dependencies and assignee are not written from here). */
  tasks: TaskRow[]
  /** Per task whose stage became terminal (−1) or stopped being terminal (+1): what its dependents' open counts shift by. */
  shifts: Map<string, number>
  /** In order. A null run id stands for the latest run of `taskId`, if it has any (read as the write commits). */
  events: Array<{ runId: string | null; taskId: string; kind: string; data: unknown }>
  /** Wake-ups (context.ts), sent once the change commits: '' for claimable now, else the epoch ms it will be. */
  wakes: Set<string>
}

export function newOutcome(): Outcome {
  return { ended: [], tasks: [], shifts: new Map(), events: [], wakes: new Set() }
}

// Each task row is written once: a task that is also a dependent of another one in the outcome (a reaper's
// batch) gets its shift in `changed`; `dependents` takes the rest. Event ids are handed out in `events`
// order (ORDINALITY), so a run's events list in the order they were written, as on SQLite.
const write = statement<TaskRow>('outcome_write', `
WITH ended AS (
  UPDATE runs SET status = e.status, ended_at_ms = $1, usage_json = coalesce(e.usage, runs.usage_json),
    error_text = coalesce(e.error, runs.error_text), lease_expires_at_ms = NULL
  FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) e (id, status, usage, error)
  WHERE runs.id = e.id
), shifts AS (
  SELECT d.task_id AS id, sum(s.delta)::bigint AS delta
  FROM unnest($13::text[], $14::bigint[]) s (id, delta) JOIN task_dependencies d ON d.depends_on_task_id = s.id
  GROUP BY d.task_id
), changed AS (
  UPDATE tasks SET stage = c.stage, task_version = c.task_version, dead_letter_reason = c.dead_letter_reason,
    next_eligible_at_ms = c.next_eligible_at_ms, failed_attempts = c.failed_attempts, active_run_id = c.active_run_id,
    updated_at_ms = c.updated_at_ms,
    open_dependencies = tasks.open_dependencies + coalesce((SELECT delta FROM shifts WHERE shifts.id = tasks.id), 0)
  FROM unnest($6::text[], $7::text[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[], $12::text[], $15::bigint[])
    c (id, stage, task_version, dead_letter_reason, next_eligible_at_ms, failed_attempts, active_run_id, updated_at_ms)
  WHERE tasks.id = c.id
  RETURNING tasks.*
), dependents AS (
  UPDATE tasks SET open_dependencies = tasks.open_dependencies + shifts.delta FROM shifts
  WHERE tasks.id = shifts.id AND shifts.id <> ALL ($6::text[])
), logged AS (
  INSERT INTO events (run_id, ts_ms, kind, data_json)
  SELECT l.run_id, $1, l.kind, l.data FROM (
    SELECT coalesce(v.run_id, (SELECT r.id FROM runs r WHERE r.task_id = v.task_id ORDER BY r.attempt DESC LIMIT 1)) AS run_id,
      v.kind, v.data, v.n
    FROM unnest($16::text[], $17::text[], $18::text[], $19::text[]) WITH ORDINALITY v (run_id, task_id, kind, data, n)
  ) l
  WHERE l.run_id IS NOT NULL
  ORDER BY l.n
)
SELECT * FROM changed`)

/** Writes an outcome in one statement; returns its tasks as written. */
export async function writeOutcome(tx: Tx, nowMs: number, o: Outcome): Promise<TaskRow[]> {
  const rows = await write.all(tx, [
    nowMs,
    o.ended.map((e) => e.id), o.ended.map((e) => e.status), o.ended.map((e) => e.usage), o.ended.map((e) => e.error),
    o.tasks.map((t) => t.id), o.tasks.map((t) => t.stage), o.tasks.map((t) => t.task_version),
    o.tasks.map((t) => t.dead_letter_reason), o.tasks.map((t) => t.next_eligible_at_ms), o.tasks.map((t) => t.failed_attempts),
    o.tasks.map((t) => t.active_run_id),
    [...o.shifts.keys()], [...o.shifts.values()],
    o.tasks.map((t) => t.updated_at_ms),
    o.events.map((e) => e.runId), o.events.map((e) => e.taskId), o.events.map((e) => e.kind),
    o.events.map((e) => JSON.stringify(e.data ?? {})),
  ])
  for (const w of o.wakes) tx.wakes.add(w)
  return rows
}
