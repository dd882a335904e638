// Console actions run the API's changes through the app's commit path, one change per transaction, as the
// JSON routes do (no Idempotency-Key: a form resubmitted after a failure simply runs again).
import type { App } from '../app.ts'
import type { Input } from '../http/route.ts'
import type { Awaitable, Changes } from '../store/driver.ts'
import { noContent } from '../http/reply.ts'
import type { BulkItem } from '../store/types.ts'

export async function commitChange(app: App, path: string, change: (c: Changes) => Awaitable<unknown>): Promise<void> {
  const input = { method: 'POST', rawPath: path, idempotencyKey: null, body: null } as unknown as Input
  await app.commit(input, change, () => noContent())
}

/**
 * A bulk requeue or cancel: one change per batch of `BATCH` tasks (each item on its own inside it, as on POST
 * /tasks/requeue), so the writer is never held for long; how many changed and the first refusal's message.
 */
export async function commitBulk(app: App, ids: readonly string[], batch: (c: Changes, ids: readonly string[]) => Awaitable<BulkItem[]>) {
  let done = 0
  let failed = 0
  let firstError: string | null = null
  for (let i = 0; i < ids.length; i += BATCH) {
    let items: BulkItem[] = []
    const input = { method: 'POST', rawPath: '/ui/tasks/bulk', idempotencyKey: null, body: null } as unknown as Input
    await app.commit(input, (c) => batch(c, ids.slice(i, i + BATCH)), (result) => { items = result; return noContent() })
    for (const item of items) {
      if (item.ok) done++
      else {
        failed++
        firstError ??= item.error?.message ?? null
      }
    }
  }
  return { done, failed, firstError }
}

// As the API's bulk routes: a batch is one short transaction.
const BATCH = 200
