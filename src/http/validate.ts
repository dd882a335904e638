import * as v from 'valibot'
import { AppError, validationError, type Detail } from '../domain/errors.ts'
import { jsonDepthExceeds, MAX_JSON_DEPTH } from '../domain/json.ts'
import { objectOf } from '../domain/schema.ts'
import { pathText, unknownFieldDetails } from './unknown-fields.ts'

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Parses a request body that must be one JSON object; every failure is a 400 with the envelope. */
export function parseJsonObject(body: Buffer | null): Record<string, unknown> {
  if (body === null || body.length === 0) throw new AppError('invalid_json', 400, 'Request body must be a JSON object')
  let value: unknown
  try {
    value = JSON.parse(utf8.decode(body))
  } catch {
    throw new AppError('invalid_json', 400, 'Invalid JSON body')
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('invalid_json', 400, 'Request body must be a JSON object')
  }
  if (jsonDepthExceeds(value)) {
    throw validationError([{ path: '', message: `JSON nesting deeper than ${MAX_JSON_DEPTH} levels` }])
  }
  return value as Record<string, unknown>
}

/**
 * Validates with a valibot schema; issues, and fields the schema does not know, become `validation_failed`
 * with one detail per offending field.
 */
export function check<S extends v.GenericSchema>(schema: S, value: unknown, prefix = ''): v.InferOutput<S> {
  const result = v.safeParse(schema, value)
  const details = (result.issues ?? []).map((issue) => ({ path: issuePath(prefix, issue), message: issue.message }))
  details.push(...unknownFieldDetails(schema, value, prefix))
  if (details.length > 0) throw validationError(details)
  return result.output
}

export function body<S extends v.GenericSchema>(schema: S, raw: Buffer | null): v.InferOutput<S> {
  return check(schema, parseJsonObject(raw))
}

/** For routes whose body may be left out: no body means `{}`; a body that is sent must be a valid object. */
export function optionalBody<S extends v.GenericSchema>(schema: S, raw: Buffer | null): v.InferOutput<S> {
  return check(schema, raw === null || raw.length === 0 ? {} : parseJsonObject(raw))
}

function issuePath(prefix: string, issue: v.BaseIssue<unknown>): string {
  return pathText(prefix, (issue.path ?? []).map((item) => {
    const key = (item as { key: unknown }).key
    return typeof key === 'number' ? key : String(key)
  }))
}

/** Decodes a raw query string: `+` is a space, each key and value is percent-decoded once, the first pair wins. */
export function parseQuery(raw: string): Record<string, string> {
  const query: Record<string, string> = Object.create(null)
  if (raw === '') return query
  for (const pair of raw.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = decodeComponent(plusToSpace(eq < 0 ? pair : pair.slice(0, eq)), 'query')
    if (!(key in query)) query[key] = eq < 0 ? '' : decodeComponent(plusToSpace(pair.slice(eq + 1)), `query.${key}`)
  }
  return query
}

// `+` means a space in a query (form encoding) but is a literal `+` in a path segment (R§3.1).
const plusToSpace = (text: string) => text.replaceAll('+', ' ')

/** Percent-decodes once; malformed escapes or invalid UTF-8 → 400 naming `where`. */
export function decodeComponent(text: string, where: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw validationError([{ path: where, message: 'invalid percent-encoding' }])
  }
}

// --- common field schemas ---------------------------------------------------------------------------

const MAX_NAME_LENGTH = 512
const MAX_TITLE_LENGTH = 4096

/** Ids, names, roles, agents, stages and triggers: short strings that are keys somewhere. */
export const Name = v.pipe(v.string(), v.maxLength(MAX_NAME_LENGTH))
export const Title = v.pipe(v.string(), v.maxLength(MAX_TITLE_LENGTH))

export const Int = v.pipe(v.number(), v.safeInteger())
export const NonNegInt = v.pipe(v.number(), v.safeInteger(), v.minValue(0))
/** A task's retry_policy, as a create, an edit and a schedule's template take it. */
export const RetryPolicy = objectOf({
  max_attempts: v.nullish(v.pipe(Int, v.minValue(1))),
  retry_delay_ms: v.nullish(NonNegInt),
  dead_letter_stage: v.nullish(Name),
})

const INTEGER_TEXT = /^-?\d{1,16}$/

/** A query integer: decimal digits only, within [min, max]; `code` names the error (R keeps `invalid_limit`). */
export function queryInt(query: Record<string, string>, name: string, fallback: number, min: number, max: number, code = 'validation_failed'): number {
  const text = query[name]
  if (text === undefined) return fallback
  const n = INTEGER_TEXT.test(text) ? Number(text) : NaN
  if (Number.isSafeInteger(n) && n >= min && n <= max) return n
  const message = `${name} must be an integer between ${min} and ${max}`
  const details: Detail[] = [{ path: `query.${name}`, message }]
  throw code === 'validation_failed' ? validationError(details) : new AppError(code, 400, message, details)
}

const MAX_IDEMPOTENCY_KEY_LENGTH = 255

/** The Idempotency-Key header, if sent: at most 255 characters (stored with every answer it keys; R§5: empty is a key). */
export function idempotencyKeyOf(headers: Headers): string | null {
  const key = headers.get('idempotency-key')
  if (key === null || key.length <= MAX_IDEMPOTENCY_KEY_LENGTH) return key
  throw validationError([{ path: 'headers.idempotency-key', message: `must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters` }])
}

export function queryLimit(query: Record<string, string>, fallback: number, max = 1000): number {
  return queryInt(query, 'limit', fallback, 1, max, 'invalid_limit')
}
