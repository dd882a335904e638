// A schedule's definition as stored (spec_json): pure data, checked at the edge (http/routes/schedules.ts).

export const MISFIRE_POLICIES = ['skip', 'latest', 'all'] as const
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number]

export const OVERLAP_POLICIES = ['allow', 'skip_if_open'] as const
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number]

/** The fields of a task create a schedule fills in at each fire (title and description rendered). */
export type TaskTemplate = {
  pipeline_id: string
  title: string
  description: string
  priority?: number | null
  metadata?: Record<string, unknown> | null
  retry_policy?: { max_attempts?: number | null; retry_delay_ms?: number | null; dead_letter_stage?: string | null } | null
  dependencies?: readonly string[] | null
  assigned_agent_id?: string | null
  assigned_by?: string | null
}

/** Exactly one of cron, every_ms and at_ms is set. */
export type ScheduleSpec = {
  cron: string | null
  /** IANA time zone of a cron expression. */
  timezone: string
  every_ms: number | null
  at_ms: number | null
  task: TaskTemplate
  misfire: MisfirePolicy
  /** Missed slots older than this, when found, are not fired by `latest` or `all`. */
  catchup_ms: number
  /** How many missed slots `all` fires at most (the latest ones). */
  max_catchup: number
  overlap: OverlapPolicy
}

export const DEFAULT_CATCHUP_MS = 60 * 60 * 1000
export const DEFAULT_MAX_CATCHUP = 100
export const MIN_EVERY_MS = 1000

/** Whether two specs name the same slots (a replace that keeps them keeps the firing cursor too). */
export function isSameTiming(a: ScheduleSpec, b: ScheduleSpec): boolean {
  return a.cron === b.cron && a.timezone === b.timezone && a.every_ms === b.every_ms && a.at_ms === b.at_ms
}
