// Reads that a route needs to find, or answer 404 for.
import type { App } from '../app.ts'
import type { TaskRow } from '../store/types.ts'
import { AppError } from '../domain/errors.ts'

export async function requireTask(app: App, id: string, code = 'not_found', message = 'Task not found'): Promise<TaskRow> {
  const task = await app.driver.reads.task(id)
  if (task === undefined) throw new AppError(code, 404, message)
  return task
}
