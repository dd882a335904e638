// How a run ends (transition, fail, expiry, release, cancel) and requeue, with the rules of SQLite's
// outcomes.ts: each reads and locks the rows it changes, decides here, and writes in one statement
// (outcome-sql.ts). Round trips: two each (release: three with a claim key to forget); a transition whose
// run this node has seen live, one (hinted-transition.ts); a compiled pipeline not yet cached on this node
// costs one more, once.
import { NOTHING_REAPED, type Reaped } from '../driver.ts'
import type { Tx } from './tx.ts'
import type { PgContext } from './context.ts'
import { lockExpired, lockRun, lockTask, newOutcome, writeOutcome, type Locked, type Outcome } from './outcome-sql.ts'
import { transitionAsHinted, type RunHints } from './hinted-transition.ts'
import { forgetAnswer } from './answers.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import { findTransition, isTerminalStage, type CompiledPipeline, type TransitionInfo } from '../../domain/pipeline.ts'
import { afterFailedAttempt } from '../../domain/retry.ts'
import { liveRunOf, type LeaseProof } from '../../domain/lease.ts'
import type { IdempotencyKey, TaskRow, TransitionRequest, TransitionResult } from '../types.ts'

/** How many expired leases one reaper turn (or claim) ends at most, as on SQLite. */
const REAP_BATCH = 500

const usageText = (usage: unknown): string | null => usage === undefined ? null : JSON.stringify(usage ?? {})

export function createOutcomes(ctx: PgContext, hints: RunHints) {
  const pipelineOf = async (tx: Tx, task: TaskRow): Promise<CompiledPipeline> => (await ctx.compiled(tx, task.pipeline_id))!

  /** A move whose stage flips between terminal and not: every dependent gains or loses an open dependency. */
  function shiftDependents(o: Outcome, pipeline: CompiledPipeline, task: TaskRow, to: string): void {
    const shift = shiftOf(pipeline, task.stage, to)
    if (shift !== 0) o.shifts.set(task.id, shift)
  }

  /** The transition in one statement if this node has a hint for the run and the hint allows it: its answer; else null. */
  async function transitionHinted(tx: Tx, proof: LeaseProof, req: TransitionRequest, nowMs: number): Promise<TransitionResult | null> {
    const hint = hints.get(proof.runId)
    if (hint === undefined || (req.expectedStage !== null && req.expectedStage !== hint.stage)) return null
    const pipeline = (await ctx.compiled(tx, hint.pipelineId))!
    const t = findTransition(pipeline, hint.stage, req.trigger)
    if (t === undefined) return null
    const done = await transitionAsHinted(tx, proof, hint, {
      to: t.to,
      shift: shiftOf(pipeline, hint.stage, t.to),
      usage: usageText(req.usage),
      expectedTaskVersion: req.expectedTaskVersion,
      eventJson: JSON.stringify(transitionEvent(t, hint.stage, req)),
    }, nowMs)
    if (!done) return null
    hints.forget(proof.runId)
    return { previous_stage: hint.stage, new_stage: t.to, trigger: t.trigger }
  }

  /**
   * A failed or expired attempt: retry after the delay (the task's unless given), or dead-letter once attempts
   * run out. Returns whether it dead-lettered the task.
   */
  async function recordFailedAttempt(tx: Tx, o: Outcome, task: TaskRow, runId: string, nowMs: number, retryDelayMs: number | null = null): Promise<boolean> {
    const failedAttempts = task.failed_attempts + 1
    const after: TaskRow = { ...task, active_run_id: null, failed_attempts: failedAttempts, updated_at_ms: nowMs }
    const delayMs = retryDelayMs ?? task.retry_delay_ms
    const next = afterFailedAttempt({ maxAttempts: task.max_attempts, retryDelayMs: delayMs }, failedAttempts, nowMs)
    if (next.kind === 'retry') {
      after.next_eligible_at_ms = next.nextEligibleAtMs
      o.tasks.push(after)
      o.events.push({ runId, taskId: task.id, kind: 'retry_scheduled', data: {
        reason: 'retry_scheduled', failed_attempts: failedAttempts, retry_delay_ms: delayMs,
        next_eligible_at_ms: next.nextEligibleAtMs,
      } })
      o.wakes.add(String(next.nextEligibleAtMs))
      return false
    }
    after.dead_letter_reason = 'max_attempts_exceeded'
    const pipeline = await pipelineOf(tx, task)
    const stage = task.dead_letter_stage !== null && pipeline.stages.has(task.dead_letter_stage) ? task.dead_letter_stage : null
    if (stage !== null) {
      after.stage = stage
      after.task_version += 1
      shiftDependents(o, pipeline, task, stage)
    }
    o.tasks.push(after)
    o.events.push({ runId, taskId: task.id, kind: 'dead_letter', data: {
      reason: 'max_attempts_exceeded', failed_attempts: failedAttempts, from_stage: task.stage, dead_letter_stage: stage,
    } })
    return true
  }

  /**
   * Every outcome that ends a lease wakes waiters on every node now: the task, a dependent or the freed
   * per-stage slot may be claimable by someone.
   */
  const endLease = (o: Outcome, runId: string, status: 'completed' | 'failed' | 'stale' | 'released' | 'canceled', usage: string | null = null, error: string | null = null) => {
    o.ended.push({ id: runId, status, usage, error })
    o.wakes.add('')
  }

  return {
    /** Completes a running run and moves its task along the pipeline (R§16). */
    async transition(tx: Tx, proof: LeaseProof, req: TransitionRequest, nowMs: number): Promise<TransitionResult> {
      const hinted = await transitionHinted(tx, proof, req, nowMs)
      if (hinted !== null) return hinted
      // Without a hint, or not as hinted: the rows as they are now, locked, answer.
      const { task, run } = requireLive(await lockRun(tx, proof.runId), proof, nowMs)
      if (req.expectedStage !== null && req.expectedStage !== task.stage) {
        throw new AppError('expected_stage_mismatch', 409, 'Current task stage does not match expected_stage')
      }
      if (req.expectedTaskVersion !== null && req.expectedTaskVersion !== task.task_version) {
        throw new AppError('task_version_mismatch', 409, 'Current task version does not match expected_task_version')
      }
      const pipeline = await pipelineOf(tx, task)
      const t = findTransition(pipeline, task.stage, req.trigger)
      if (t === undefined) throw new AppError('invalid_transition', 400, 'No valid transition for this trigger from current stage')
      const o = newOutcome()
      endLease(o, run.id, 'completed', usageText(req.usage))
      o.tasks.push({ ...task, stage: t.to, task_version: task.task_version + 1, dead_letter_reason: null, next_eligible_at_ms: 0, active_run_id: null, updated_at_ms: nowMs })
      shiftDependents(o, pipeline, task, t.to)
      o.events.push({ runId: run.id, taskId: task.id, kind: 'transition', data: transitionEvent(t, task.stage, req) })
      await writeOutcome(tx, nowMs, o)
      hints.forget(run.id)
      return { previous_stage: task.stage, new_stage: t.to, trigger: t.trigger }
    },

    /** The agent gave up on its run (R§17). */
    async fail(tx: Tx, proof: LeaseProof, error: string, usage: unknown, nowMs: number, retryDelayMs?: number | null): Promise<boolean> {
      const { task, run } = requireLive(await lockRun(tx, proof.runId), proof, nowMs)
      const o = newOutcome()
      endLease(o, run.id, 'failed', usageText(usage), error)
      const deadLettered = await recordFailedAttempt(tx, o, task, run.id, nowMs, retryDelayMs ?? null)
      await writeOutcome(tx, nowMs, o)
      return deadLettered
    },

    /**
     * Gives a lease back without counting a failed attempt; its task is claimable again after `delayMs`.
     * Given a run id, only a running run is released (an operator may have canceled it meanwhile); given a
     * proof, the lease must be live and the bearer's. The claim's Idempotency-Key answer is forgotten either way.
     */
    async release(tx: Tx, lease: string | LeaseProof, reason: string | null, claimKey: IdempotencyKey | null, nowMs: number, delayMs = 0): Promise<boolean> {
      if (claimKey !== null) await forgetAnswer(tx, claimKey)
      const locked = typeof lease === 'string' ? await lockRun(tx, lease) : requireLive(await lockRun(tx, lease.runId), lease, nowMs, 'Lease not found')
      if (locked?.run.status !== 'running') return false
      const { task, run } = locked
      const o = newOutcome()
      endLease(o, run.id, 'released')
      const after: TaskRow = { ...task, active_run_id: task.active_run_id === run.id ? null : task.active_run_id }
      if (delayMs > 0) {
        after.next_eligible_at_ms = nowMs + delayMs
        o.wakes.add(String(after.next_eligible_at_ms))
      }
      o.tasks.push(after)
      o.events.push({ runId: run.id, taskId: task.id, kind: 'released', data: delayMs > 0 ? { reason, next_eligible_at_ms: after.next_eligible_at_ms } : { reason } })
      await writeOutcome(tx, nowMs, o)
      return true
    },

    /**
     * Runs whose lease ran out become stale and count as failed attempts, each exactly once whichever node
     * gets to it (locked with SKIP LOCKED, re-checked once locked). Returns how many this call reaped.
     */
    async expireDue(tx: Tx, nowMs: number): Promise<Reaped> {
      const due = await lockExpired(tx, nowMs, REAP_BATCH)
      if (due.length === 0) return NOTHING_REAPED
      const o = newOutcome()
      let deadLettered = 0
      for (const { task, run } of due) {
        endLease(o, run.id, 'stale')
        o.events.push({ runId: run.id, taskId: task.id, kind: 'lease_expired', data: { lease_expires_at_ms: run.lease_expires_at_ms } })
        if (await recordFailedAttempt(tx, o, task, run.id, nowMs)) deadLettered++
      }
      await writeOutcome(tx, nowMs, o)
      return { expired: due.length, deadLettered, runIds: due.map((d) => d.run.id) }
    },

    /** Takes a task out of play for good; its running run (if any) is canceled and its lease revoked. */
    async cancel(tx: Tx, taskId: string, reason: string | null, nowMs: number): Promise<TaskRow> {
      const task = await requireTask(tx, taskId)
      if (task.dead_letter_reason === 'canceled') return task
      const o = newOutcome()
      if (task.active_run_id !== null) endLease(o, task.active_run_id, 'canceled')
      o.tasks.push({ ...task, dead_letter_reason: 'canceled', active_run_id: null, updated_at_ms: nowMs })
      o.events.push({ runId: task.active_run_id, taskId: task.id, kind: 'canceled', data: { reason: reason ?? null } })
      return (await writeOutcome(tx, nowMs, o))[0]
    },

    /** Puts a dead-lettered or canceled task back in play, optionally in another stage (W16). */
    async requeue(tx: Tx, taskId: string, stage: string | null, nowMs: number): Promise<TaskRow> {
      const task = await requireTask(tx, taskId)
      if (task.active_run_id !== null) throw new AppError('conflict', 409, 'Task has a running run; cancel it or let it finish first')
      const pipeline = stage === null ? null : await pipelineOf(tx, task)
      if (stage !== null && !pipeline!.stages.has(stage)) {
        throw validationError([{ path: 'stage', message: `names no stage of the pipeline: ${stage}` }])
      }
      const o = newOutcome()
      const after: TaskRow = { ...task, dead_letter_reason: null, next_eligible_at_ms: nowMs, failed_attempts: 0, task_version: task.task_version + 1, updated_at_ms: nowMs }
      if (stage !== null && stage !== task.stage) {
        after.stage = stage
        shiftDependents(o, pipeline!, task, stage)
      }
      o.tasks.push(after)
      o.events.push({ runId: null, taskId: task.id, kind: 'requeued', data: { from_stage: task.stage, to_stage: stage ?? task.stage } })
      o.wakes.add('')
      return (await writeOutcome(tx, nowMs, o))[0]
    },
  }
}

/** The task and run a lease proof names, with a live lease the bearer's token holds. */
function requireLive(locked: Locked | undefined, proof: LeaseProof, nowMs: number, unknown?: string): Locked {
  const run = liveRunOf(locked?.run, proof, nowMs, unknown)
  if (run.status !== 'running') throw new AppError('conflict', 409, 'Run is not in running state')
  return locked!
}

/** −1 when a move makes the task's stage terminal, +1 when it stops being so: its dependents' open count shift. */
export function shiftOf(pipeline: CompiledPipeline, from: string, to: string): number {
  const isTerminal = isTerminalStage(pipeline, to)
  return isTerminalStage(pipeline, from) === isTerminal ? 0 : isTerminal ? -1 : 1
}

function transitionEvent(t: TransitionInfo, from: string, req: TransitionRequest) {
  return { trigger: t.trigger, from, to: t.to, instructions: req.instructions ?? t.instructions ?? '' }
}

/** The task, locked; 404 when there is none. */
export async function requireTask(tx: Tx, taskId: string): Promise<TaskRow> {
  const task = await lockTask(tx, taskId)
  if (task === undefined) throw new AppError('not_found', 404, 'Task not found')
  return task
}
