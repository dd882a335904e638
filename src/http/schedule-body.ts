// The body of PUT /schedules/{name}, checked to the end: its shape by valibot, then what valibot cannot
// say (exactly one timing, a cron expression croner parses, a time zone this Node knows, a pipeline that
// exists), all as 400 validation_failed with one detail per problem.
import * as v from 'valibot'
import type { App } from '../app.ts'
import { check, Int, Name, NonNegInt, parseJsonObject, RetryPolicy, Title } from './validate.ts'
import { JsonObject, objectOf } from '../domain/schema.ts'
import { validationError, type Detail } from '../domain/errors.ts'
import {
  DEFAULT_CATCHUP_MS, DEFAULT_MAX_CATCHUP, MIN_EVERY_MS, MISFIRE_POLICIES, OVERLAP_POLICIES, type ScheduleSpec,
} from '../domain/schedule.ts'
import { parseCron } from '../schedules/occurrences.ts'

const MAX_TASK_DEPENDENCIES = 100
const MAX_CATCHUP_CAP = 10_000

// RFC 3339: a full date, a time and an offset (Z or ±hh:mm); seconds may have a fraction.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/

const TaskTemplate = objectOf({
  pipeline_id: Name,
  title: Title,
  description: v.optional(v.string(), ''),
  priority: v.nullish(Int),
  metadata: v.nullish(JsonObject),
  retry_policy: v.nullish(RetryPolicy),
  dependencies: v.nullish(v.pipe(v.array(Name), v.maxLength(MAX_TASK_DEPENDENCIES))),
  assigned_agent_id: v.nullish(Name),
  assigned_by: v.nullish(Name),
})

const ScheduleBody = v.object({
  cron: v.nullish(v.pipe(v.string(), v.maxLength(256))),
  timezone: v.nullish(v.pipe(v.string(), v.maxLength(64))),
  every_ms: v.nullish(v.pipe(Int, v.minValue(MIN_EVERY_MS, `every_ms must be at least ${MIN_EVERY_MS}`))),
  at: v.nullish(v.union([NonNegInt, v.pipe(v.string(), v.regex(RFC3339, 'an RFC 3339 time such as 2026-01-01T09:00:00Z'))],
    'an RFC 3339 time or epoch milliseconds')),
  task: TaskTemplate,
  misfire: v.optional(v.picklist(MISFIRE_POLICIES), 'latest'),
  catchup_ms: v.optional(NonNegInt, DEFAULT_CATCHUP_MS),
  max_catchup: v.optional(v.pipe(Int, v.minValue(1), v.maxValue(MAX_CATCHUP_CAP)), DEFAULT_MAX_CATCHUP),
  overlap: v.optional(v.picklist(OVERLAP_POLICIES), 'allow'),
  paused: v.optional(v.boolean(), false),
})

// Intl answers in ≈ 0.1 ms; the zones it knew once it knows for the life of the process.
const knownZones = new Set<string>(['UTC'])

function isKnownTimeZone(zone: string): boolean {
  if (knownZones.has(zone)) return true
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
  } catch {
    return false
  }
  knownZones.add(zone)
  return true
}

/** The timing fields' problems: exactly one timing, and each one well formed. */
function timingDetails(b: v.InferOutput<typeof ScheduleBody>, timezone: string): Detail[] {
  const set = [b.cron, b.every_ms, b.at].filter((x) => x != null).length
  if (set !== 1) return [{ path: '', message: 'exactly one of cron, every_ms and at is required' }]
  if (!isKnownTimeZone(timezone)) return [{ path: 'timezone', message: `not an IANA time zone: ${timezone}` }]
  if (b.cron != null) {
    try {
      parseCron(b.cron, timezone)
    } catch (err) {
      return [{ path: 'cron', message: `not a cron expression of 5 or 6 fields: ${(err as Error).message}` }]
    }
  }
  if (typeof b.at === 'string' && Number.isNaN(Date.parse(b.at))) return [{ path: 'at', message: 'not a valid time' }]
  return []
}

/** What the template names must exist now: its pipeline, its dead-letter stage, its upstream tasks. */
async function referenceDetails(app: App, task: ScheduleSpec['task']): Promise<Detail[]> {
  const pipeline = await app.driver.reads.compiledPipeline(task.pipeline_id)
  if (pipeline === undefined) return [{ path: 'task.pipeline_id', message: `no pipeline ${task.pipeline_id}` }]
  const details: Detail[] = []
  const deadLetter = task.retry_policy?.dead_letter_stage
  if (deadLetter != null && !pipeline.stages.has(deadLetter)) {
    details.push({ path: 'task.retry_policy.dead_letter_stage', message: `names no stage of the pipeline: ${deadLetter}` })
  }
  const upstream = await Promise.all((task.dependencies ?? []).map((id) => app.driver.reads.task(id)))
  const ids = task.dependencies ?? []
  upstream.forEach((t, i) => {
    if (t === undefined) details.push({ path: `task.dependencies[${i}]`, message: 'no such task' })
    else if (ids.indexOf(ids[i]) !== i) details.push({ path: `task.dependencies[${i}]`, message: 'listed twice' })
  })
  return details
}

/** A PUT body as the spec to store, and whether it starts paused. */
export async function parseScheduleBody(app: App, raw: Buffer | null): Promise<{ spec: ScheduleSpec; paused: boolean }> {
  const b = check(ScheduleBody, parseJsonObject(raw))
  const timezone = b.timezone ?? 'UTC'
  const timing = timingDetails(b, timezone)
  if (timing.length > 0) throw validationError(timing)
  const references = await referenceDetails(app, b.task)
  if (references.length > 0) throw validationError(references)
  const spec: ScheduleSpec = {
    cron: b.cron ?? null,
    timezone,
    every_ms: b.every_ms ?? null,
    at_ms: b.at == null ? null : typeof b.at === 'number' ? b.at : Date.parse(b.at),
    task: b.task,
    misfire: b.misfire,
    catchup_ms: b.catchup_ms,
    max_catchup: b.max_catchup,
    overlap: b.overlap,
  }
  return { spec, paused: b.paused }
}
