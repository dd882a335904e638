// Console actions run the API's changes through the app's commit path, one change per transaction, as the
// JSON routes do (no Idempotency-Key: a form resubmitted after a failure simply runs again).
import type { App } from '../app.ts'
import type { Input } from '../http/route.ts'
import type { Awaitable, Changes } from '../store/driver.ts'
import { noContent } from '../http/reply.ts'
import { BULK_BATCH, runBatch, type Batch } from '../http/routes/bulk.ts'

export async function commitChange(app: App, path: string, change: (c: Changes) => Awaitable<unknown>): Promise<void> {
  const input = { method: 'POST', rawPath: path, idempotencyKey: null, body: null } as unknown as Input
  await app.commit(input, change, () => noContent())
}

/**
 * A bulk requeue or cancel as POST /tasks/requeue runs one: a transaction per batch of BULK_BATCH tasks (each
 * item on its own inside it); how many changed and the first refusal's message.
 */
export async function commitBulk(app: App, ids: readonly string[], batch: Batch) {
  const input = { method: 'POST', rawPath: '/ui/tasks/bulk', idempotencyKey: null, body: null } as unknown as Input
  let done = 0
  let failed = 0
  let firstError: string | null = null
  for (let i = 0; i < ids.length; i += BULK_BATCH) {
    for (const item of await runBatch(input, app, batch, ids.slice(i, i + BULK_BATCH))) {
      if (item.ok) done++
      else {
        failed++
        firstError ??= item.error?.message ?? null
      }
    }
  }
  return { done, failed, firstError }
}
