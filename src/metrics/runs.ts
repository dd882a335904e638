// Observations the lease routes make from what their change already returned: no query of their own.
import type { App } from '../app.ts'
import type { TaskRow } from '../store/types.ts'
import type { Reaped } from '../store/driver.ts'
import { idTimeMs } from '../domain/ids.ts'
import type { RunOutcome } from './instruments.ts'

/**
 * Queue wait of a task just claimed (the row as the claim found it): from when it last became claimable by
 * a change (created, moved, retried, requeued: updated_at_ms) or by the clock (next_eligible_at_ms), the
 * later of the two. A wait on open dependencies counts too: resolving one does not touch the task's row.
 */
export function observeClaimed(app: App, task: TaskRow): void {
  const since = Math.max(task.updated_at_ms, task.next_eligible_at_ms)
  app.metrics.queueWait.observe(Math.max(0, app.clock.now() - since) / 1000)
}

/** A run's duration, from its id: a UUIDv7 made by its claim (src/domain/ids.ts), so nothing is read. */
export function observeRunEnd(app: Pick<App, 'metrics' | 'clock'>, runId: string, outcome: RunOutcome): void {
  const startedAt = idTimeMs(runId)
  if (startedAt !== null) app.metrics.runDuration.observe({ outcome }, Math.max(0, app.clock.now() - startedAt) / 1000)
}

/** Leases found expired, by the reaper or by a claim: their tasks that ran out of attempts are dead letters too. */
export function observeReaped(app: Pick<App, 'metrics' | 'clock'>, reaped: Reaped): void {
  app.metrics.leaseExpirations.inc(reaped.expired)
  if (reaped.deadLettered > 0) app.metrics.deadLetters.inc(reaped.deadLettered)
  for (const runId of reaped.runIds) observeRunEnd(app, runId, 'expired')
}
