// The rows and requests every storage driver speaks: what routes, waiters and the reaper read and pass in.
// Column-shaped (snake_case, epoch-ms numbers, JSON fields as the JSON text that was stored) so that both
// drivers return the same thing and the renderers splice stored JSON in without parsing it.
import type { DeadLetterReason, RunStatus } from '../domain/status.ts'
import type { TaskStatus } from '../domain/task-status.ts'

// --- Pipelines -----------------------------------------------------------------------------------

/** `paused` is 0 or 1. */
export type PipelineRow = { id: string; name: string; definition_json: string; paused: number; created_at_ms: number }

// --- Tasks ---------------------------------------------------------------------------------------

export type TaskRow = {
  id: string
  pipeline_id: string
  stage: string
  title: string
  description: string
  priority: number
  metadata_json: string
  task_version: number
  next_eligible_at_ms: number
  max_attempts: number | null
  retry_delay_ms: number
  dead_letter_stage: string | null
  dead_letter_reason: DeadLetterReason | null
  failed_attempts: number
  open_dependencies: number
  assignee: string | null
  active_run_id: string | null
  created_at_ms: number
  updated_at_ms: number
}

/** A validated POST /tasks body; absent and null mean the same. */
export type NewTask = {
  pipeline_id: string
  title: string
  description: string
  priority?: number | null
  metadata?: unknown
  retry_policy?: { max_attempts?: number | null; retry_delay_ms?: number | null; dead_letter_stage?: string | null } | null
  not_before_ms?: number | null
  /** Upstream tasks, each listed once; every one must exist. */
  dependencies?: readonly string[] | null
  assigned_agent_id?: string | null
  assigned_by?: string | null
}

export type { TaskPatch } from '../domain/task-patch.ts'

/** An event of a task outside any run (an edit, a signal, a bulk requeue or cancel). */
export type TaskEventRow = { id: number; task_id: string; ts_ms: number; kind: string; data_json: string }

export type SignalRequest = { trigger: string; data: unknown; expectedStage: string | null }

export type SignalResult = { task: TaskRow; previous_stage: string; new_stage: string; trigger: string }

/** Which tasks a bulk requeue or cancel takes; at least one field is set. */
export type BulkFilter = {
  pipeline_id?: string
  stage?: string
  status?: BulkStatus
  dead_letter_reason?: DeadLetterReason
  created_before_ms?: number
}

/** The statuses a bulk filter understands (a subset of GET /tasks's). */
export const BULK_STATUS = ['dead_lettered', 'canceled', 'leased', 'blocked'] as const
export type BulkStatus = (typeof BULK_STATUS)[number]

/** One item of a bulk answer. */
export type BulkItem = { id: string; ok: boolean; changed: boolean; error?: BulkItemError }

/** Why an item was refused: the error envelope's fields, as a single request would have answered. */
export type BulkItemError = { code: string; message: string; details?: Array<{ path: string; message: string }> }

/**
 * GET /tasks: every given filter must hold. `q` is a store search text (searchTerms: literal terms, all must
 * match) over title, description and the metadata's strings and numbers; `status` is derived from the row as
 * domain/task-status.ts says, as of `nowMs` (claimable and delayed depend on it; default: no time has passed,
 * 0). Created bounds are exclusive. Pages follow `order` (default asc) by (created_at_ms, id), `after` a
 * cursor in that order.
 */
export type TaskFilter = {
  stage?: string
  pipelineId?: string
  q?: string
  status?: TaskStatus
  assignee?: string
  createdAfterMs?: number
  createdBeforeMs?: number
  order?: 'asc' | 'desc'
  nowMs?: number
  after: TimeCursor | null
  limit: number
}

export type DependencyView = { depends_on_task_id: string; resolved: boolean }

export type AssignmentRow = {
  task_id: string
  agent_id: string
  assigned_by: string | null
  active: number
  created_at_ms: number
  updated_at_ms: number
}

// --- Runs and leases -----------------------------------------------------------------------------

export type RunRow = {
  id: string
  task_id: string
  attempt: number
  status: RunStatus
  agent_id: string
  agent_role: string
  started_at_ms: number
  ended_at_ms: number | null
  usage_json: string
  error_text: string | null
  lease_token_hash: Buffer
  lease_ttl_ms: number
  lease_expires_at_ms: number | null
  last_heartbeat_ms: number | null
}

export type EventRow = { id: number; run_id: string; ts_ms: number; kind: string; data_json: string }

export type ClaimRequest = {
  agentId: string
  role: string
  ttlMs: number
  /** Per-stage limits on live leases within one pipeline; a limit ≤ 0 means none. */
  perState: Record<string, number>
  /** Only tasks of this pipeline (absent or null: any pipeline with a stage of the role). */
  pipelineId?: string | null
}

export type Claim = { task: TaskRow; run: RunRow; token: string }

export type TransitionRequest = {
  trigger: string
  instructions: string | null
  usage: unknown
  expectedStage: string | null
  expectedTaskVersion: number | null
}

export type TransitionResult = { previous_stage: string; new_stage: string; trigger: string }

// --- Artifacts -----------------------------------------------------------------------------------

export type ArtifactRow = {
  id: string
  task_id: string | null
  run_id: string | null
  created_at_ms: number
  kind: string
  uri: string
  sha256: string | null
  size_bytes: number | null
  meta_json: string
}

export type NewArtifact = {
  task_id?: string | null
  run_id?: string | null
  kind: string
  uri: string
  sha256?: string | null
  size_bytes?: number | null
  meta?: unknown
}

export type ArtifactFilter = { taskId?: string; runId?: string; after: TimeCursor | null; limit: number }

// --- Store (key-value) ---------------------------------------------------------------------------

export type EntryRow = { namespace: string; key: string; value_json: string; created_at_ms: number; updated_at_ms: number }

export type HitRow = EntryRow & { rank: number; snippet: string }

/** A search, already validated: `terms` are searchTerms(q) (domain/search.ts), each a literal phrase, all ANDed. */
export type Search = {
  terms: string[]
  namespace?: string
  /** json_extract(value, path) equals `text` as text, or `json` (if not null) as a JSON scalar; `path` is valid (isJsonPath). */
  filter?: { path: string; text: string | undefined; json: string | null }
  limit: number
}

// --- Traces --------------------------------------------------------------------------------------

export type SpanRow = {
  id: number
  trace_id: Buffer
  span_id: Buffer
  parent_span_id: Buffer | null
  trace_state: string | null
  name: string
  kind: number
  /** Decimal text: nanoseconds do not fit a JS number. */
  start_time_unix_nano: string
  end_time_unix_nano: string
  status_code: number
  status_message: string | null
  flags: number | null
  attributes_json: string
  resource_attributes_json: string
  scope_name: string | null
  scope_version: string | null
  events_json: string | null
  links_json: string | null
  run_id: string | null
  task_id: string | null
}

export type SpanFilter = { runId?: string; taskId?: string; traceId?: Buffer; afterId: number; limit: number }

// --- Operations ----------------------------------------------------------------------------------

export type RoleQueueStats = {
  role: string
  claimable_count: number
  oldest_claimable_age_ms: number | null
  failed_count: number
  stuck_count: number
  near_expiry_leases: number
  running_count: number
  dead_letter_count: number
}

// --- Lists and idempotency -----------------------------------------------------------------------

/** Position after an item in a list ordered by (created_at_ms, id). */
export type TimeCursor = { createdAtMs: number; id: string }

export type IdempotencyKey = { key: string; method: string; path: string }

export type IdempotencyRecord = { request_hash: Buffer; status: number; body: string | null }

// --- Console (/ui) -------------------------------------------------------------------------------

/** One (pipeline, stage) of a role on the console's overview: counts from indexes, never a scan of tasks. */
export type StageOverview = {
  pipeline_id: string
  stage: string
  claimable: number
  delayed: number
  blocked: number
  leased: number
  dead_lettered: number
  /** created_at_ms of the oldest claimable task, or null. */
  oldest_claimable_at_ms: number | null
}

/** Runs that ended in one minute (`minute_ms` is its start): completed, and failed or expired. */
export type ThroughputMinute = { minute_ms: number; completed: number; failed: number }

/** A live lease and the task it holds. */
export type LeaseView = {
  run_id: string
  task_id: string
  title: string
  pipeline_id: string
  stage: string
  agent_id: string
  agent_role: string
  lease_expires_at_ms: number
}

// --- Metrics -------------------------------------------------------------------------------------

/** A count of tasks at one place (pipeline id, stage). */
export type PlaceCount = { pipeline_id: string; stage: string; count: number }

/**
 * What /metrics reads of tasks at scrape time, from counters kept by triggers and small indexes (never a
 * scan of every task). src/metrics/tasks.ts turns it into counts by state.
 */
export type TaskTally = {
  /** Trigger-kept counts by state: open, blocked, dead_lettered, canceled; `pipeline` is its name. */
  counts: Array<PlaceCount & { pipeline: string; state: 'open' | 'blocked' | 'dead_lettered' | 'canceled' }>
  /** Open tasks whose run holds a live lease. */
  leased: PlaceCount[]
  /** Open tasks not claimable before a time still ahead. */
  delayed: PlaceCount[]
  /** Every (pipeline, stage) a role claims from: created_at_ms of its oldest claimable task, or null. */
  oldest: Array<{ pipeline_id: string; stage: string; created_at_ms: number | null }>
}
