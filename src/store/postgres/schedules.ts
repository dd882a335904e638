// Schedules, their slot records and the global pause. (PostgreSQL driver; README: Schedules)
// Every node runs its own timer and may fire the same slot: a fire locks its schedule's row (FOR UPDATE),
// so two nodes take turns, and the second finds the first's slot record (UNIQUE: schedule_slots_once).
// A change to a schedule NOTIFYs SCHEDULE_CHANNEL in its transaction (delivered on commit only), so the
// other nodes' timers re-read that schedule at once.
import type pg from 'pg'
import type { Tx } from './tx.ts'
import type { PgContext, TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'
import type { FireResult, ScheduleControl, ScheduledTaskRow, ScheduleRow } from '../schedule-types.ts'
import { statement } from './sql.ts'
import { createTasks } from './tasks.ts'
import { isResolvedIn, compiledOf } from './dependencies.ts'
import { AppError } from '../../domain/errors.ts'
import { isSameTiming, type ScheduleSpec } from '../../domain/schedule.ts'

/** Payload: a schedule's name, or '' for the global pause (every schedule). */
export const SCHEDULE_CHANNEL = 'docket_schedules'

const COLUMNS = 'name, spec_json, paused::int AS paused, anchor_ms, since_ms, last_slot_ms, last_task_id, created_at_ms, updated_at_ms'
const TASK_COLUMNS = 't.id, t.pipeline_id, t.stage, t.title, t.description, t.priority, t.metadata_json, t.task_version, ' +
  't.next_eligible_at_ms, t.max_attempts, t.retry_delay_ms, t.dead_letter_stage, t.dead_letter_reason, t.failed_attempts, ' +
  't.open_dependencies, t.assignee, t.active_run_id, t.created_at_ms, t.updated_at_ms'

const notify = statement('schedules_notify', `SELECT pg_notify('${SCHEDULE_CHANNEL}', $1)`)
const byName = statement<ScheduleRow>('schedules_by_name', `SELECT ${COLUMNS} FROM schedules WHERE name = $1`)
const lockByName = statement<ScheduleRow>('schedules_lock', `SELECT ${COLUMNS} FROM schedules WHERE name = $1 FOR UPDATE`)
const insert = statement<ScheduleRow>('schedules_insert', `
  INSERT INTO schedules (name, spec_json, paused, anchor_ms, since_ms, created_at_ms, updated_at_ms)
  VALUES ($1, $2, $3, $4, $4, $4, $4)
  ON CONFLICT (name) DO NOTHING
  RETURNING ${COLUMNS}`)
const replace = statement<ScheduleRow>('schedules_replace', `
  UPDATE schedules SET spec_json = $2, paused = $3, since_ms = CASE WHEN $4 THEN since_ms ELSE $5 END, updated_at_ms = $5
  WHERE name = $1 RETURNING ${COLUMNS}`)
const remove = statement('schedules_delete', `
  WITH gone AS (DELETE FROM schedules WHERE name = $1 RETURNING name)
  DELETE FROM schedule_slots WHERE schedule_name = $1 AND EXISTS (SELECT 1 FROM gone)`)
const existsStmt = statement('schedules_exists', 'SELECT 1 FROM schedules WHERE name = $1')
const setPausedStmt = statement<ScheduleRow>('schedules_set_paused', `
  UPDATE schedules SET paused = $2, since_ms = CASE WHEN NOT $2 AND paused THEN $3 ELSE since_ms END, updated_at_ms = $3
  WHERE name = $1 RETURNING ${COLUMNS}`)
const control = statement<ScheduleControl>('schedule_control',
  'SELECT paused::int AS paused, resumed_at_ms, updated_at_ms FROM schedule_control WHERE id = 1')
const setControl = statement<ScheduleControl>('schedule_control_set', `
  UPDATE schedule_control SET paused = $1, resumed_at_ms = CASE WHEN NOT $1 AND paused THEN $2 ELSE resumed_at_ms END,
    updated_at_ms = $2
  WHERE id = 1 RETURNING paused::int AS paused, resumed_at_ms, updated_at_ms`)
const slotExists = statement('schedule_slot_exists',
  'SELECT 1 FROM schedule_slots WHERE schedule_name = $1 AND scheduled_at_ms = $2 AND NOT manual')
const placeOf = statement<{ pipeline_id: string; stage: string; dead_letter_reason: string | null }>('schedule_last_task',
  'SELECT pipeline_id, stage, dead_letter_reason FROM tasks WHERE id = $1')
// The slot and the cursor in one statement; a scheduled slot recorded already inserts nothing, and then
// the cursor is left alone too.
const record = statement<{ id: number }>('schedule_slot_record', `
  WITH slot AS (
    INSERT INTO schedule_slots (schedule_name, scheduled_at_ms, manual, task_id, outcome, error_text, created_at_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT DO NOTHING
    RETURNING id
  ), moved AS (
    UPDATE schedules SET last_task_id = coalesce($4, last_task_id),
      last_slot_ms = CASE WHEN $3 THEN last_slot_ms ELSE greatest(coalesce(last_slot_ms, $2), $2) END
    WHERE name = $1 AND EXISTS (SELECT 1 FROM slot)
  )
  SELECT id FROM slot`)
const page = statement<ScheduleRow>('schedules_page', `
  SELECT ${COLUMNS} FROM schedules
  WHERE starts_with(name, $1) AND ($2::text IS NULL OR name > $2)
  ORDER BY name LIMIT $3`)
const all = statement<ScheduleRow>('schedules_all', `SELECT ${COLUMNS} FROM schedules`)
const tasksOf = statement<ScheduledTaskRow>('schedule_tasks', `
  SELECT ${TASK_COLUMNS}, s.id AS slot_id FROM schedule_slots s JOIN tasks t ON t.id = s.task_id
  WHERE s.schedule_name = $1 AND ($2::bigint IS NULL OR s.id < $2)
  ORDER BY s.id DESC LIMIT $3`)

function notFound(): AppError {
  return new AppError('not_found', 404, 'Schedule not found')
}

/** Still in play: not in a terminal stage, and not dead-lettered or canceled (out of play for good). */
async function isOpen(ctx: PgContext, tx: Tx, taskId: string): Promise<boolean> {
  const place = await placeOf.one(tx, [taskId])
  return place !== undefined && place.dead_letter_reason === null && !isResolvedIn(await compiledOf(ctx, tx, [place.pipeline_id]), place)
}

async function fireSlot(ctx: PgContext, tx: Tx, fire: Parameters<TxChanges['fireSlot']>[1], nowMs: number): Promise<FireResult> {
  const row = await lockByName.one(tx, [fire.name])
  if (row === undefined) return { outcome: 'gone', task_id: null }
  if (!fire.manual) {
    if (row.paused === 1 || (await control.one(tx))!.paused === 1) return { outcome: 'paused', task_id: null }
    if (await slotExists.one(tx, [fire.name, fire.slotMs]) !== undefined) return { outcome: 'exists', task_id: null }
    const spec = JSON.parse(row.spec_json) as ScheduleSpec
    if (spec.overlap === 'skip_if_open' && row.last_task_id !== null && await isOpen(ctx, tx, row.last_task_id)) {
      await record.run(tx, [fire.name, fire.slotMs, false, null, 'skipped_overlap', null, nowMs])
      return { outcome: 'skipped_overlap', task_id: null }
    }
  }
  const [taskId] = await createTasks(ctx, tx, [fire.render(row)], nowMs)
  await record.run(tx, [fire.name, fire.slotMs, fire.manual, taskId, 'created', null, nowMs])
  return { outcome: 'created', task_id: taskId }
}

type ScheduleChanges = Pick<TxChanges, 'putSchedule' | 'deleteSchedule' | 'pauseSchedule' | 'pauseSchedules' | 'fireSlot' | 'failSlot'>

export function schedulesChanges(ctx: PgContext): ScheduleChanges {
  return {
    async putSchedule(tx, name, spec, paused, nowMs) {
      const specJson = JSON.stringify(spec)
      await notify.run(tx, [name])
      const created = await insert.one(tx, [name, specJson, paused, nowMs])
      if (created !== undefined) return { row: created, created: true }
      const existing = (await lockByName.one(tx, [name]))!
      const keepSince = isSameTiming(JSON.parse(existing.spec_json) as ScheduleSpec, spec)
      return { row: (await replace.one(tx, [name, specJson, paused, keepSince, nowMs]))!, created: false }
    },

    async deleteSchedule(tx, name) {
      if (await existsStmt.one(tx, [name]) === undefined) throw notFound()
      await remove.run(tx, [name])
      await notify.run(tx, [name])
    },

    async pauseSchedule(tx, name, paused, nowMs) {
      const row = await setPausedStmt.one(tx, [name, paused, nowMs])
      if (row === undefined) throw notFound()
      await notify.run(tx, [name])
      return row
    },

    async pauseSchedules(tx, paused, nowMs) {
      const row = (await setControl.one(tx, [paused, nowMs]))!
      await notify.run(tx, [''])
      return row
    },

    fireSlot: (tx, fire, nowMs) => fireSlot(ctx, tx, fire, nowMs),

    async failSlot(tx, name, slotMs, error, nowMs) {
      if (await lockByName.one(tx, [name]) !== undefined) await record.run(tx, [name, slotMs, false, null, 'failed', error, nowMs])
    },
  }
}

export function schedulesReads(pool: pg.Pool): Pick<Reads, 'schedule' | 'schedules' | 'allSchedules' | 'scheduleControl' | 'scheduleTasks'> {
  return {
    schedule: (name) => byName.one(pool, [name]),
    schedules: (prefix, afterName, limit) => page.all(pool, [prefix, afterName, limit + 1]),
    allSchedules: () => all.all(pool),
    scheduleControl: async () => (await control.one(pool))!,
    scheduleTasks: (name, beforeSlot, limit) => tasksOf.all(pool, [name, beforeSlot, limit + 1]),
  }
}
