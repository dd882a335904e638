// Console actions run the API's changes through the app's commit path, one change per transaction, as the
// JSON routes do (no Idempotency-Key: a form resubmitted after a failure simply runs again).
import type { App } from '../app.ts'
import type { Input } from '../http/route.ts'
import type { Awaitable, Changes } from '../store/driver.ts'
import { noContent } from '../http/reply.ts'
import { AppError } from '../domain/errors.ts'

export async function commitChange(app: App, path: string, change: (c: Changes) => Awaitable<unknown>): Promise<void> {
  const input = { method: 'POST', rawPath: path, idempotencyKey: null, body: null } as unknown as Input
  await app.commit(input, change, () => noContent())
}

/** Runs one change per task, `BATCH` at a time; how many succeeded and the first failure's message. */
export async function commitEach(app: App, ids: readonly string[], change: (id: string) => (c: Changes) => Awaitable<unknown>) {
  let done = 0
  let failed = 0
  let firstError: string | null = null
  for (let i = 0; i < ids.length; i += BATCH) {
    const results = await Promise.allSettled(ids.slice(i, i + BATCH).map((id) => commitChange(app, `/ui/tasks/${id}`, change(id))))
    for (const r of results) {
      if (r.status === 'fulfilled') done++
      else if (r.reason instanceof AppError) {
        failed++
        firstError ??= r.reason.message
      } else throw r.reason
    }
  }
  return { done, failed, firstError }
}

// Concurrent changes share one SQLite commit (group commit); a bounded batch keeps the writer's queue short.
const BATCH = 100
