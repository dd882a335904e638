// POST /tasks/{id}/signal: which transition a signal takes a task along, decided once for both drivers.
import { AppError } from './errors.ts'
import { findTransition, isGateStage, type CompiledPipeline, type TransitionInfo } from './pipeline.ts'

type SignaledTask = { stage: string; dead_letter_reason: string | null }

/** The transition of `trigger` out of the task's gate stage; a 409 or 400 when the signal cannot move it. */
export function signalTransition(task: SignaledTask, pipeline: CompiledPipeline, trigger: string, expectedStage: string | null): TransitionInfo {
  if (expectedStage !== null && expectedStage !== task.stage) {
    throw new AppError('expected_stage_mismatch', 409, 'Current task stage does not match expected_stage')
  }
  if (!isGateStage(pipeline, task.stage)) throw new AppError('not_a_gate', 409, `Stage ${task.stage} is not a gate`)
  if (task.dead_letter_reason !== null) throw new AppError('conflict', 409, 'Task is dead-lettered or canceled; requeue it first')
  const t = findTransition(pipeline, task.stage, trigger)
  if (t === undefined) throw new AppError('invalid_transition', 400, 'No valid transition for this trigger from current stage')
  return t
}
