// A schedule's task for one slot: its template with {{scheduled_at}} and {{name}} filled in, and the slot
// in the task's metadata (what GET /tasks filters and an agent reading the task see).
import type { ScheduleSpec } from '../domain/schedule.ts'
import type { NewTask } from '../store/types.ts'

/** The task of `schedule` (its row as stored) for the slot at `slotMs`. */
export function renderTask(schedule: { name: string; spec_json: string }, slotMs: number): NewTask {
  const { name } = schedule
  const spec = JSON.parse(schedule.spec_json) as ScheduleSpec
  const fill = (text: string) => text.replace(/\{\{\s*(scheduled_at|name)\s*\}\}/g, (_, field: string) =>
    field === 'name' ? name : new Date(slotMs).toISOString())
  const { task } = spec
  return {
    ...task,
    title: fill(task.title),
    description: fill(task.description),
    metadata: { ...task.metadata, schedule: name, scheduled_at_ms: slotMs },
  }
}
