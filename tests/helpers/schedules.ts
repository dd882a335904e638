// Schedules in tests: put one over a fresh pipeline, fire what is due by the manual clock, list what it made.
import { createPipeline, expectStatus, unique } from './fixtures.ts'
import type { TestServer } from './server.ts'

export async function putSchedule(s: TestServer, fields: Record<string, unknown>, pipelineId?: string): Promise<{ name: string; body: any }> {
  const name = unique('sched')
  const pipeline_id = pipelineId ?? await createPipeline(s)
  const res = await s.request('PUT', `/schedules/${name}`, { task: { pipeline_id, title: '{{name}} at {{scheduled_at}}' }, ...fields })
  return { name, body: expectStatus(res, 201).body }
}

/** Fires what is due by the test's clock, and waits for it. */
export const fireDue = (s: TestServer) => s.docket.scheduler.tick()

/** The tasks a schedule made, newest first. */
export async function tasksOf(s: TestServer, name: string): Promise<any[]> {
  return expectStatus(await s.request('GET', `/schedules/${name}/tasks?limit=1000`), 200).body.items
}

/** Scheduled times of a schedule's tasks, oldest first. */
export async function slotsOf(s: TestServer, name: string): Promise<number[]> {
  return (await tasksOf(s, name)).map((t) => t.metadata.scheduled_at_ms).reverse()
}
