// Claims, leases and how runs end (transition, fail, expiry, release, cancel), requeue, and reading runs and events. (PostgreSQL driver)
//
// Round trips inside a change (the driver adds BEGIN and COMMIT around each, except around a claim,
// heartbeat, event or hinted transition that is one statement: tx.ts): claim 1 (2 with per-stage limits;
// +3 when a lease is due: the reap's 2 and the claim again), heartbeat 1, event 1, transition 1 when this
// node has seen the run live (its claim, or a read of the run) else 2, fail 2, release 2 (+1 to forget a
// claim key), expiry 1 when nothing is due else 2 per batch of 500, cancel 2, requeue 2.
import type pg from 'pg'
import type { PgContext, TxChanges } from './context.ts'
import type { Reads } from '../driver.ts'
import type { EventRow, RunRow } from '../types.ts'
import { statement } from './sql.ts'
import { claimNext } from './claim.ts'
import { createOutcomes } from './outcomes.ts'
import { createRunHints, type RunHints } from './hinted-transition.ts'
import { appendEvent, claimants, heartbeat, rotateToken } from './leases.ts'

type RunChanges = Pick<TxChanges, 'claim' | 'cancelTask' | 'requeueTask' | 'rotateToken' | 'release' | 'heartbeat' | 'appendEvent' | 'transition' | 'fail' | 'expireDue'>

// A node's run hints, shared by its changes and reads, which are both made from the node's one context.
const hintsByNode = new WeakMap<PgContext, RunHints>()
function hintsOf(ctx: PgContext): RunHints {
  let hints = hintsByNode.get(ctx)
  if (hints === undefined) hintsByNode.set(ctx, hints = createRunHints())
  return hints
}

export function runsChanges(ctx: PgContext): RunChanges {
  const hints = hintsOf(ctx)
  const outcomes = createOutcomes(ctx, hints)
  return {
    // Expired leases are reaped first (only when there are any: the claim's statement looks), so a claim
    // never waits on the reaper's period to see work they freed.
    async claim(tx, req, nowMs) {
      const claimed = await claimNext(tx, req, nowMs, () => outcomes.expireDue(tx, nowMs))
      if (claimed.claim !== null) hints.remember(claimed.claim.run.id, { pipelineId: claimed.claim.task.pipeline_id, stage: claimed.claim.task.stage })
      return claimed
    },
    rotateToken,
    release: outcomes.release,
    heartbeat,
    appendEvent,
    transition: outcomes.transition,
    fail: outcomes.fail,
    expireDue: outcomes.expireDue,
    cancelTask: outcomes.cancel,
    requeueTask: outcomes.requeue,
  }
}

// With where its task stands, for a transition that may follow a read of its run.
const byId = statement<RunRow & { hint_pipeline_id: string; hint_stage: string }>('runs_by_id', `
  SELECT r.*, t.pipeline_id AS hint_pipeline_id, t.stage AS hint_stage FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.id = $1`)
const latest = statement<RunRow>('runs_latest', 'SELECT * FROM runs WHERE task_id = $1 ORDER BY attempt DESC LIMIT 1')
const ofTask = statement<RunRow>('runs_of_task', 'SELECT * FROM runs WHERE task_id = $1 AND attempt > $2 ORDER BY attempt LIMIT $3')
const eventsOf = statement<EventRow>('runs_events', 'SELECT * FROM events WHERE run_id = $1 AND id > $2 ORDER BY id LIMIT $3')

export function runsReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'run' | 'latestRun' | 'runs' | 'events' | 'claimants'> {
  const hints = hintsOf(ctx)
  return {
    async run(id) {
      const row = await byId.one(pool, [id])
      if (row === undefined) return undefined
      const { hint_pipeline_id: pipelineId, hint_stage: stage, ...run } = row
      if (run.lease_expires_at_ms !== null) hints.remember(id, { pipelineId, stage })
      return run
    },
    latestRun: (taskId) => latest.one(pool, [taskId]),
    runs: (taskId, after, limit) => ofTask.all(pool, [taskId, after, limit + 1]),
    events: (runId, after, limit) => eventsOf.all(pool, [runId, after, limit + 1]),
    claimants: (role, nowMs) => claimants(pool, role, nowMs),
  }
}
