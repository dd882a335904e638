// Schedules, their slot records and the global pause. (SQLite driver; README: Schedules)
import type { Db } from './db.ts'
import type { ScheduleControl, ScheduledTaskRow, ScheduleRow } from '../schedule-types.ts'
import { AppError } from '../../domain/errors.ts'

export type ScheduleStore = ReturnType<typeof createScheduleStore>

export function createScheduleStore(db: Db) {
  const byName = db.prepare<[string], ScheduleRow>('SELECT * FROM schedules WHERE name = ?')
  const insert = db.prepare(`
    INSERT INTO schedules (name, spec_json, paused, anchor_ms, since_ms, created_at_ms, updated_at_ms)
    VALUES (@name, @spec_json, @paused, @now, @now, @now, @now)`)
  const replace = db.prepare(`
    UPDATE schedules SET spec_json = @spec_json, paused = @paused, since_ms = @since_ms, updated_at_ms = @now
    WHERE name = @name`)
  const remove = db.prepare('DELETE FROM schedules WHERE name = ?')
  const removeSlots = db.prepare('DELETE FROM schedule_slots WHERE schedule_name = ?')
  const setPausedStmt = db.prepare(`
    UPDATE schedules SET paused = @paused, since_ms = CASE WHEN @paused = 0 AND paused = 1 THEN @now ELSE since_ms END,
      updated_at_ms = @now
    WHERE name = @name`)
  const control = db.prepare<[], ScheduleControl>('SELECT paused, resumed_at_ms, updated_at_ms FROM schedule_control WHERE id = 1')
  const setControl = db.prepare(`
    UPDATE schedule_control SET paused = @paused,
      resumed_at_ms = CASE WHEN @paused = 0 AND paused = 1 THEN @now ELSE resumed_at_ms END, updated_at_ms = @now
    WHERE id = 1`)
  const slotExists = db.prepare<{ name: string; slot: number }, { id: number }>(
    'SELECT id FROM schedule_slots WHERE schedule_name = @name AND scheduled_at_ms = @slot AND manual = 0')
  const insertSlot = db.prepare(`
    INSERT INTO schedule_slots (schedule_name, scheduled_at_ms, manual, task_id, outcome, error_text, created_at_ms)
    VALUES (@name, @slot, @manual, @task_id, @outcome, @error_text, @now)
    ON CONFLICT DO NOTHING`)
  // A manual trigger moves last_task_id only; a scheduled slot also moves the firing cursor (never back).
  const recordFire = db.prepare(`
    UPDATE schedules SET last_task_id = coalesce(@task_id, last_task_id),
      last_slot_ms = CASE WHEN @manual = 1 THEN last_slot_ms ELSE max(coalesce(last_slot_ms, @slot), @slot) END
    WHERE name = @name`)
  const page = db.prepare<{ prefix: string; after: string | null; limit: number }, ScheduleRow>(`
    SELECT * FROM schedules
    WHERE substr(name, 1, length(@prefix)) = +@prefix AND (@after IS NULL OR name > +@after)
    ORDER BY name LIMIT +@limit`)
  const all = db.prepare<[], ScheduleRow>('SELECT * FROM schedules')
  const tasksOf = db.prepare<{ name: string; before: number | null; limit: number }, ScheduledTaskRow>(`
    SELECT t.*, s.id AS slot_id FROM schedule_slots s JOIN tasks t ON t.id = s.task_id
    WHERE s.schedule_name = +@name AND (@before IS NULL OR s.id < +@before)
    ORDER BY s.id DESC LIMIT +@limit`)

  return {
    get: (name: string): ScheduleRow | undefined => byName.get(name),

    /** Inserts, or replaces `existing` (the row as the caller read it); `keepSince` keeps its firing cursor. */
    put(name: string, specJson: string, paused: boolean, existing: ScheduleRow | undefined, keepSince: boolean, nowMs: number): ScheduleRow {
      const p = paused ? 1 : 0
      if (existing === undefined) insert.run({ name, spec_json: specJson, paused: p, now: nowMs })
      else replace.run({ name, spec_json: specJson, paused: p, since_ms: keepSince ? existing.since_ms : nowMs, now: nowMs })
      return byName.get(name)!
    },

    remove(name: string): void {
      if (remove.run(name).changes === 0) throw new AppError('not_found', 404, 'Schedule not found')
      removeSlots.run(name)
    },

    setPaused(name: string, paused: boolean, nowMs: number): ScheduleRow {
      if (setPausedStmt.run({ name, paused: paused ? 1 : 0, now: nowMs }).changes === 0) throw new AppError('not_found', 404, 'Schedule not found')
      return byName.get(name)!
    },

    control: (): ScheduleControl => control.get()!,

    setControl(paused: boolean, nowMs: number): ScheduleControl {
      setControl.run({ paused: paused ? 1 : 0, now: nowMs })
      return control.get()!
    },

    hasSlot: (name: string, slotMs: number): boolean => slotExists.get({ name, slot: slotMs }) !== undefined,

    /** Records a slot and moves the schedule's cursor; false if a scheduled slot was recorded already. */
    record(name: string, slotMs: number, manual: boolean, taskId: string | null, outcome: string, errorText: string | null, nowMs: number): boolean {
      const m = manual ? 1 : 0
      const inserted = insertSlot.run({ name, slot: slotMs, manual: m, task_id: taskId, outcome, error_text: errorText, now: nowMs }).changes > 0
      if (inserted) recordFire.run({ name, slot: slotMs, manual: m, task_id: taskId })
      return inserted
    },

    list: (prefix: string, after: string | null, limit: number): ScheduleRow[] => page.all({ prefix, after, limit: limit + 1 }),
    all: (): ScheduleRow[] => all.all(),
    tasks: (name: string, before: number | null, limit: number): ScheduledTaskRow[] => tasksOf.all({ name, before, limit: limit + 1 }),
  }
}
