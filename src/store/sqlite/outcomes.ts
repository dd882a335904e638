// How a run ends (transition, fail, expiry, cancel) and what that does to its task.
import { NOTHING_REAPED, type Reaped } from '../driver.ts'
import type { Db } from './db.ts'
import type { DeadLetterReason, RunStatus } from '../../domain/status.ts'
import type { TaskStore } from './tasks.ts'
import type { EventStore } from './events.ts'
import { AppError, validationError } from '../../domain/errors.ts'
import { findTransition } from '../../domain/pipeline.ts'
import { afterFailedAttempt } from '../../domain/retry.ts'
import type { RunRow, TaskRow, TransitionRequest, TransitionResult } from '../types.ts'

export type OutcomeStore = ReturnType<typeof createOutcomeStore>

export function createOutcomeStore(db: Db, tasks: TaskStore, events: EventStore, onEligibleAt: (atMs: number) => void) {
  const endRun = db.prepare(`
    UPDATE runs SET status = @status, ended_at_ms = @now, usage_json = coalesce(@usage, usage_json),
      error_text = coalesce(@error, error_text), lease_expires_at_ms = NULL
    WHERE id = @id`)
  const releaseFailed = db.prepare(`
    UPDATE tasks SET active_run_id = NULL, failed_attempts = failed_attempts + 1, updated_at_ms = @now
    WHERE id = @id RETURNING failed_attempts`).pluck()
  const retryAt = db.prepare('UPDATE tasks SET next_eligible_at_ms = @at WHERE id = @id')
  const deadLetterStmt = db.prepare('UPDATE tasks SET dead_letter_reason = @reason, active_run_id = NULL, updated_at_ms = @now WHERE id = @id')
  const deadLetter = (taskId: string, reason: DeadLetterReason, nowMs: number) => deadLetterStmt.run({ id: taskId, reason, now: nowMs })
  const expiredRuns = db.prepare<[number, number], RunRow>(
    'SELECT * FROM runs WHERE lease_expires_at_ms <= +? ORDER BY lease_expires_at_ms LIMIT +?',
  )
  const requeueStmt = db.prepare(`
    UPDATE tasks SET dead_letter_reason = NULL, next_eligible_at_ms = @now, failed_attempts = 0,
      task_version = task_version + 1, updated_at_ms = @now
    WHERE id = @id`)
  const freeTask = db.prepare('UPDATE tasks SET active_run_id = NULL WHERE id = @task_id AND active_run_id = @run_id')
  const latestRunId = db.prepare<[string], string>('SELECT id FROM runs WHERE task_id = +? ORDER BY attempt DESC LIMIT 1').pluck()

  const end = (run: RunRow, status: RunStatus, nowMs: number, usage: unknown = undefined, error: string | null = null) =>
    endRun.run({ id: run.id, status, now: nowMs, usage: usage === undefined ? null : JSON.stringify(usage ?? {}), error })

  /**
   * A failed or expired attempt: retry after the delay (the task's unless given), or dead-letter once attempts
   * run out. Returns whether it dead-lettered the task.
   */
  function recordFailedAttempt(run: RunRow, nowMs: number, retryDelayMs: number | null = null): boolean {
    const failedAttempts = releaseFailed.get({ id: run.task_id, now: nowMs }) as number
    const task = tasks.get(run.task_id)!
    const delayMs = retryDelayMs ?? task.retry_delay_ms
    const next = afterFailedAttempt({ maxAttempts: task.max_attempts, retryDelayMs: delayMs }, failedAttempts, nowMs)
    if (next.kind === 'retry') {
      retryAt.run({ id: task.id, at: next.nextEligibleAtMs })
      events.append(run.id, 'retry_scheduled', {
        reason: 'retry_scheduled', failed_attempts: failedAttempts, retry_delay_ms: delayMs,
        next_eligible_at_ms: next.nextEligibleAtMs,
      }, nowMs)
      onEligibleAt(next.nextEligibleAtMs)
      return false
    }
    deadLetter(task.id, 'max_attempts_exceeded', nowMs)
    const stage = task.dead_letter_stage !== null && tasks.pipelineOf(task).stages.has(task.dead_letter_stage) ? task.dead_letter_stage : null
    if (stage !== null) tasks.moveStage(task, stage, true, nowMs)
    events.append(run.id, 'dead_letter', {
      reason: 'max_attempts_exceeded', failed_attempts: failedAttempts, from_stage: task.stage, dead_letter_stage: stage,
    }, nowMs)
    return true
  }

  return {
    /** Completes a running run and moves its task along the pipeline (R§16). */
    transition(run: RunRow, req: TransitionRequest, nowMs: number): TransitionResult {
      if (run.status !== 'running') throw new AppError('conflict', 409, 'Run is not in running state')
      const task = tasks.get(run.task_id)!
      if (req.expectedStage !== null && req.expectedStage !== task.stage) {
        throw new AppError('expected_stage_mismatch', 409, 'Current task stage does not match expected_stage')
      }
      if (req.expectedTaskVersion !== null && req.expectedTaskVersion !== task.task_version) {
        throw new AppError('task_version_mismatch', 409, 'Current task version does not match expected_task_version')
      }
      const t = findTransition(tasks.pipelineOf(task), task.stage, req.trigger)
      if (t === undefined) throw new AppError('invalid_transition', 400, 'No valid transition for this trigger from current stage')
      end(run, 'completed', nowMs, req.usage)
      tasks.advance(task, t.to, nowMs)
      events.append(run.id, 'transition', {
        trigger: t.trigger, from: task.stage, to: t.to, instructions: req.instructions ?? t.instructions ?? '',
      }, nowMs)
      return { previous_stage: task.stage, new_stage: t.to, trigger: t.trigger }
    },

    /** The agent gave up on its run (R§17). */
    fail(run: RunRow, error: string, usage: unknown, nowMs: number, retryDelayMs: number | null): boolean {
      if (run.status !== 'running') throw new AppError('conflict', 409, 'Run is not in running state')
      end(run, 'failed', nowMs, usage, error)
      return recordFailedAttempt(run, nowMs, retryDelayMs)
    },

    /**
     * Gives a lease back without counting a failed attempt: the task is claimable again after `delayMs`.
     * Only a running run is released (an operator may have canceled it meanwhile); returns whether it was.
     */
    release(run: RunRow | undefined, reason: string | null, delayMs: number, nowMs: number): boolean {
      if (run?.status !== 'running') return false
      end(run, 'released', nowMs)
      freeTask.run({ task_id: run.task_id, run_id: run.id })
      if (delayMs > 0) {
        retryAt.run({ id: run.task_id, at: nowMs + delayMs })
        onEligibleAt(nowMs + delayMs)
      }
      events.append(run.id, 'released', delayMs > 0 ? { reason, next_eligible_at_ms: nowMs + delayMs } : { reason }, nowMs)
      return true
    },

    /** Runs whose lease ran out become stale and count as failed attempts. Returns how many were reaped. */
    expireDue(nowMs: number, max = 500): Reaped {
      const due = expiredRuns.all(nowMs, max)
      if (due.length === 0) return NOTHING_REAPED
      let deadLettered = 0
      for (const run of due) {
        end(run, 'stale', nowMs)
        events.append(run.id, 'lease_expired', { lease_expires_at_ms: run.lease_expires_at_ms }, nowMs)
        if (recordFailedAttempt(run, nowMs)) deadLettered++
      }
      return { expired: due.length, deadLettered, runIds: due.map((r) => r.id) }
    },

    /** Takes a task out of play for good; its running run (if any) is canceled and its lease revoked. */
    cancel(task: TaskRow, reason: string | null, nowMs: number): TaskRow {
      if (task.dead_letter_reason === 'canceled') return task
      deadLetter(task.id, 'canceled', nowMs)
      const runId = task.active_run_id ?? latestRunId.get(task.id)
      if (task.active_run_id !== null) end({ id: task.active_run_id } as RunRow, 'canceled', nowMs)
      if (runId !== undefined) events.append(runId, 'canceled', { reason: reason ?? null }, nowMs)
      return tasks.get(task.id)!
    },

    /** Puts a dead-lettered or canceled task back in play, optionally in another stage (W16). */
    requeue(task: TaskRow, stage: string | null, nowMs: number): TaskRow {
      if (task.active_run_id !== null) throw new AppError('conflict', 409, 'Task has a running run; cancel it or let it finish first')
      if (stage !== null && !tasks.pipelineOf(task).stages.has(stage)) {
        throw validationError([{ path: 'stage', message: `names no stage of the pipeline: ${stage}` }])
      }
      requeueStmt.run({ id: task.id, now: nowMs })
      if (stage !== null && stage !== task.stage) tasks.moveStage(task, stage, false, nowMs)
      const runId = latestRunId.get(task.id)
      if (runId !== undefined) events.append(runId, 'requeued', { from_stage: task.stage, to_stage: stage ?? task.stage }, nowMs)
      return tasks.get(task.id)!
    },
  }
}
