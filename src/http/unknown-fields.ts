// Fields a body has that its schema does not know. valibot's v.object drops them in silence, so a misplaced
// field (`max_attempts` beside `retry_policy` instead of inside it) would do nothing without a word; here
// every v.object of a body schema is strict. v.looseObject and v.record mark free-form JSON and v.unknown any
// JSON at all: nothing inside those is unknown. Free-form stay: metadata, data, usage, meta and value (the
// caller's own JSON); per_state (keyed by stage name); and a pipeline definition with its states and
// transitions, because nullTickets keeps a definition's unknown fields (R§9.1), so clients written for it
// may keep their own there. Every other field nullTickets' routes read, and its e2e script and docs send,
// is a known field here. OTLP/JSON is not checked this way: OTLP receivers must ignore unknown fields.
import type { Detail } from '../domain/errors.ts'

type Key = string | number
/** The parts of a valibot schema the walk reads. */
type Node = {
  kind?: string
  type?: string
  entries?: Record<string, Node>
  item?: Node
  wrapped?: Node
  value?: Node
  pipe?: Node[]
}

/** An array item in a field's location: any index. */
const ANY_INDEX = -1

/** One detail per unknown field, with a hint where a known field of that name lives elsewhere in the body. */
export function unknownFieldDetails(schema: unknown, value: unknown, prefix = ''): Detail[] {
  const unknown: Key[][] = []
  walk(schema as Node, value, [], unknown)
  if (unknown.length === 0) return []
  const known: Key[][] = []
  fieldsOf(schema as Node, [], known)
  return unknown.map((path) => {
    const hints = hintsFor(path, known)
    const message = hints.length === 0 ? 'unknown field' : `unknown field; did you mean ${hints.map((h) => pathText('', h)).join(' or ')}?`
    return { path: pathText(prefix, path), message }
  })
}

/** `retry_policy.max_attempts`, `tasks[2].foo`; `[]` for any index. */
export function pathText(prefix: string, keys: readonly Key[]): string {
  let text = prefix
  for (const key of keys) {
    if (typeof key === 'number') text += key === ANY_INDEX ? '[]' : `[${key}]`
    else text += text === '' ? key : `.${key}`
  }
  return text
}

const isPlainObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x)

function walk(schema: Node, value: unknown, path: Key[], unknown: Key[][]): void {
  // A pipe's first item is the schema it was built on (v.pipe(JsonObject, v.object(...)) has two schemas).
  if (schema.pipe !== undefined) {
    for (const item of schema.pipe) if (item.kind === 'schema') walk(item, value, path, unknown)
    return
  }
  if (schema.wrapped !== undefined) return walk(schema.wrapped, value, path, unknown)
  if (schema.type === 'array' && Array.isArray(value)) {
    value.forEach((item, i) => walk(schema.item!, item, [...path, i], unknown))
  } else if ((schema.type === 'object' || schema.type === 'strict_object') && isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (Object.hasOwn(schema.entries!, key)) walk(schema.entries![key], value[key], [...path, key], unknown)
      else unknown.push([...path, key])
    }
  }
}

/** Every location a field can have in a body of this schema (free-form content has none). */
function fieldsOf(schema: Node, path: Key[], known: Key[][]): void {
  if (schema.pipe !== undefined) {
    for (const item of schema.pipe) if (item.kind === 'schema') fieldsOf(item, path, known)
    return
  }
  if (schema.wrapped !== undefined) return fieldsOf(schema.wrapped, path, known)
  if (schema.type === 'array') return fieldsOf(schema.item!, [...path, ANY_INDEX], known)
  if (schema.type === 'object' || schema.type === 'strict_object' || schema.type === 'loose_object') {
    for (const [key, entry] of Object.entries(schema.entries!)) {
      known.push([...path, key])
      fieldsOf(entry, [...path, key], known)
    }
  }
}

/**
 * The known locations of the unknown field's name, nearest first: those sharing the longest prefix with
 * where it was sent, written from that prefix as sent (`tasks[1].dead_letter_stage` →
 * `tasks[1].retry_policy.dead_letter_stage`).
 */
function hintsFor(path: Key[], known: Key[][]): Key[][] {
  const name = path[path.length - 1]
  let best = -1
  let hints: Key[][] = []
  for (const location of known) {
    if (location[location.length - 1] !== name) continue
    let shared = 0
    while (shared < path.length - 1 && shared < location.length - 1 && sameStep(path[shared], location[shared])) shared++
    const hint = [...path.slice(0, shared), ...location.slice(shared)]
    if (shared > best) [best, hints] = [shared, [hint]]
    else if (shared === best) hints.push(hint)
  }
  return hints
}

const sameStep = (sent: Key, known: Key) => sent === known || (typeof sent === 'number' && known === ANY_INDEX)
