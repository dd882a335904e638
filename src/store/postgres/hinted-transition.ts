// A transition in one statement, when this node already knows the run's task: a claim answers with its task
// (and a read of the run, such as a lease route's check of an Idempotency-Key request, sees it), so the node
// that serves a lease's transition has almost always seen which pipeline and stage its task is in. While
// the lease is live nothing but the run's own end (or a cancel, which ends the run) moves the task, so that
// hint is exact; the statement checks it anyway, with the lease, under the locks the two-statement path
// takes, and writes only if all hold. Otherwise it has written nothing, and outcomes.ts goes on as without
// a hint (its checks answer, or it writes in a second statement). Correctness never rests on a hint; only
// the round trip does.
import type { Tx } from './tx.ts'
import { statement } from './sql.ts'
import type { LeaseProof } from '../../domain/lease.ts'

/** Where a run's task stood when this node last saw the run live. */
export type RunHint = { pipelineId: string; stage: string }

/** The hints of this node's recently seen runs, the oldest forgotten past `max`. */
export function createRunHints(max = 4096) {
  const hints = new Map<string, RunHint>()
  return {
    remember(runId: string, hint: RunHint): void {
      hints.delete(runId)
      hints.set(runId, hint)
      if (hints.size > max) hints.delete(hints.keys().next().value!)
    },
    get: (runId: string): RunHint | undefined => hints.get(runId),
    forget(runId: string): void {
      hints.delete(runId)
    },
  }
}
export type RunHints = ReturnType<typeof createRunHints>

/** What the transition writes if the hint holds: computed by outcomes.ts from the hinted stage. */
export type HintedMove = { to: string; shift: number; usage: string | null; expectedTaskVersion: number | null; eventJson: string }

// The writes are outcome-sql.ts's for a transition, gated on `ok`. Locks as there: task, then run.
const move = statement<{ done: boolean }>('transition_hinted', `
WITH locked AS (
  SELECT t.id, t.pipeline_id, t.stage, t.task_version, r.id AS run_id, r.status AS run_status,
    r.lease_expires_at_ms AS run_lease_expires_at_ms, r.lease_token_hash AS run_lease_token_hash
  FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.id = $1 FOR UPDATE OF t, r
), ok AS (
  SELECT id, run_id FROM locked
  WHERE run_lease_expires_at_ms > $2 AND run_lease_token_hash = $3 AND run_status = 'running'
    AND pipeline_id = $4 AND stage = $5 AND ($6::bigint IS NULL OR task_version = $6)
), ended AS (
  UPDATE runs SET status = 'completed', ended_at_ms = $2, usage_json = coalesce($7, runs.usage_json), lease_expires_at_ms = NULL
  FROM ok WHERE runs.id = ok.run_id
), moved AS (
  UPDATE tasks SET stage = $8, task_version = tasks.task_version + 1, dead_letter_reason = NULL, next_eligible_at_ms = 0,
    active_run_id = NULL, updated_at_ms = $2
  FROM ok WHERE tasks.id = ok.id
), dependents AS (
  UPDATE tasks SET open_dependencies = tasks.open_dependencies + $9
  FROM ok JOIN task_dependencies d ON d.depends_on_task_id = ok.id
  WHERE $9::bigint <> 0 AND tasks.id = d.task_id
), logged AS (
  INSERT INTO events (run_id, ts_ms, kind, data_json) SELECT run_id, $2, 'transition', $10 FROM ok
)
SELECT count(*) = 1 AS done FROM ok`)

/**
 * Whether the hinted move was written. If not, it wrote nothing, and whatever it locked is to be locked
 * again by the caller (run alone, tx.ts, its locks went with its commit; in a transaction, the caller's
 * second statement reads the rows anyway).
 */
export async function transitionAsHinted(tx: Tx, proof: LeaseProof, hint: RunHint, m: HintedMove, nowMs: number): Promise<boolean> {
  const { rows: [{ done }] } = await move.alone(tx, [
    proof.runId, nowMs, proof.tokenHash, hint.pipelineId, hint.stage, m.expectedTaskVersion, m.usage, m.to, m.shift, m.eventJson,
  ])
  // The lease ended: the task, a dependent or a freed per-stage slot may be claimable by someone.
  if (done) tx.wakes.add('')
  return done
}
