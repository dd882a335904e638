// Rows and requests of schedules (README: Schedules), as both drivers store them.
import type { NewTask, TaskRow } from './types.ts'

export type ScheduleRow = {
  name: string
  spec_json: string
  paused: number
  /** When the name was first put: every_ms counts its slots from here. */
  anchor_ms: number
  /** No slot at or before this fires: the timing last changed, or the schedule was resumed, then. */
  since_ms: number
  /** The latest scheduled slot fired (or recorded as skipped or failed): where firing goes on from. */
  last_slot_ms: number | null
  /** The task of the latest fire, scheduled or manual (overlap: skip_if_open looks at it). */
  last_task_id: string | null
  created_at_ms: number
  updated_at_ms: number
}

/** The global pause; resumed_at_ms acts as every schedule's since_ms. */
export type ScheduleControl = { paused: number; resumed_at_ms: number; updated_at_ms: number }

/** One slot to fire: a scheduled one (exactly once, by its time) or a manual trigger (its own slot). */
export type SlotFire = {
  name: string
  slotMs: number
  manual: boolean
  /** The task for this slot, from the schedule's row as the transaction reads it. */
  render(row: ScheduleRow): NewTask
}

export const FIRE_OUTCOMES = ['created', 'skipped_overlap', 'exists', 'paused', 'gone'] as const
export type FireOutcome = (typeof FIRE_OUTCOMES)[number]
export type FireResult = { outcome: FireOutcome; task_id: string | null }

/** A task a schedule made, with the slot row that made it (the id is the list's cursor). */
export type ScheduledTaskRow = TaskRow & { slot_id: number }
