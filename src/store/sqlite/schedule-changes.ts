// Changes to schedules, as SQLite runs them (synchronously, inside the writer's batch). A fire creates its
// task with the same code as POST /tasks, so dependencies, assignment and retry policy behave alike.
import type { Store } from './index.ts'
import type { Changes } from '../driver.ts'
import type { FireResult } from '../schedule-types.ts'
import { isSameTiming, type ScheduleSpec } from '../../domain/schedule.ts'

type ScheduleChanges = Pick<Changes, 'putSchedule' | 'deleteSchedule' | 'pauseSchedule' | 'pauseSchedules' | 'fireSlot' | 'failSlot'>

export function createScheduleChanges(store: Store, createTasks: Changes['createTasks']): ScheduleChanges {
  const { schedules } = store

  /** Still in play: not in a terminal stage, and not dead-lettered or canceled (out of play for good). */
  function isOpen(taskId: string): boolean {
    const task = store.tasks.get(taskId)
    return task !== undefined && task.dead_letter_reason === null && !store.tasks.isResolved(taskId)
  }

  return {
    putSchedule(name, spec, paused, nowMs) {
      const existing = schedules.get(name)
      const keepSince = existing !== undefined && isSameTiming(JSON.parse(existing.spec_json) as ScheduleSpec, spec)
      return { row: schedules.put(name, JSON.stringify(spec), paused, existing, keepSince, nowMs), created: existing === undefined }
    },
    deleteSchedule: (name) => schedules.remove(name),
    pauseSchedule: (name, paused, nowMs) => schedules.setPaused(name, paused, nowMs),
    pauseSchedules: (paused, nowMs) => schedules.setControl(paused, nowMs),

    fireSlot(fire, nowMs): FireResult {
      const row = schedules.get(fire.name)
      if (row === undefined) return { outcome: 'gone', task_id: null }
      if (!fire.manual) {
        if (row.paused === 1 || schedules.control().paused === 1) return { outcome: 'paused', task_id: null }
        if (schedules.hasSlot(fire.name, fire.slotMs)) return { outcome: 'exists', task_id: null }
        const spec = JSON.parse(row.spec_json) as ScheduleSpec
        if (spec.overlap === 'skip_if_open' && row.last_task_id !== null && isOpen(row.last_task_id)) {
          schedules.record(fire.name, fire.slotMs, false, null, 'skipped_overlap', null, nowMs)
          return { outcome: 'skipped_overlap', task_id: null }
        }
      }
      const [taskId] = createTasks([fire.render(row)], nowMs) as string[]
      schedules.record(fire.name, fire.slotMs, fire.manual, taskId, 'created', null, nowMs)
      return { outcome: 'created', task_id: taskId }
    },

    failSlot(name, slotMs, error, nowMs) {
      if (schedules.get(name) !== undefined) schedules.record(name, slotMs, false, null, 'failed', error, nowMs)
    },
  }
}
