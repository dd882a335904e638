// The run a claim starts, the same on every driver: its first lease, live from the claim's time.
import type { ClaimRequest, RunRow } from './types.ts'

export type LeasedRun = { id: string; taskId: string; attempt: number; tokenHash: Buffer; nowMs: number }

export function leasedRun(req: ClaimRequest, r: LeasedRun): RunRow {
  return {
    id: r.id,
    task_id: r.taskId,
    attempt: r.attempt,
    status: 'running',
    agent_id: req.agentId,
    agent_role: req.role,
    started_at_ms: r.nowMs,
    ended_at_ms: null,
    usage_json: '{}',
    error_text: null,
    lease_token_hash: r.tokenHash,
    lease_ttl_ms: req.ttlMs,
    lease_expires_at_ms: r.nowMs + req.ttlMs,
    last_heartbeat_ms: r.nowMs,
  }
}
