// JSON text of schedules as the API answers them. The stored spec is spliced in field by field; the next
// fire times are computed from the row (its firing cursor), not from any one node's timer.
import type { ScheduleControl, ScheduleRow } from '../store/schedule-types.ts'
import type { ScheduleSpec } from '../domain/schedule.ts'
import { nextSlots, occurrencesOf } from '../schedules/occurrences.ts'

const s = JSON.stringify
export const NEXT_FIRE_TIMES = 5

export function scheduleJson(row: ScheduleRow, nowMs: number): string {
  const spec = JSON.parse(row.spec_json) as ScheduleSpec
  const after = Math.max(nowMs, row.since_ms, row.last_slot_ms ?? -Infinity)
  const next = nextSlots(occurrencesOf(spec, row.anchor_ms), after, NEXT_FIRE_TIMES)
  return `{"name":${s(row.name)},"cron":${s(spec.cron)},"timezone":${s(spec.timezone)},"every_ms":${s(spec.every_ms)},` +
    `"at_ms":${s(spec.at_ms)},"task":${s(spec.task)},"misfire":${s(spec.misfire)},"catchup_ms":${spec.catchup_ms},` +
    `"max_catchup":${spec.max_catchup},"overlap":${s(spec.overlap)},"paused":${row.paused === 1},` +
    `"last_slot_ms":${s(row.last_slot_ms)},"last_task_id":${s(row.last_task_id)},` +
    `"created_at_ms":${row.created_at_ms},"updated_at_ms":${row.updated_at_ms},"next_fire_times":${s(next)}}`
}

export function scheduleStateJson(c: ScheduleControl): string {
  return `{"paused":${c.paused === 1},"updated_at_ms":${c.updated_at_ms}}`
}
