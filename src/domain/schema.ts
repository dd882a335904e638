import * as v from 'valibot'

const isJsonObject = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x)

/**
 * A JSON object. valibot's object, looseObject and record schemas also accept arrays, and record drops
 * the keys `__proto__`, `constructor` and `prototype`; the wire format means neither.
 */
export const JsonObject = v.custom<Record<string, unknown>>(isJsonObject, 'Invalid type: Expected Object')

/** v.object (unknown keys dropped) that rejects arrays. */
export const objectOf = <E extends v.ObjectEntries>(entries: E) => v.pipe(JsonObject, v.object(entries))

/** v.looseObject (unknown keys kept) that rejects arrays. */
export const looseObjectOf = <E extends v.ObjectEntries>(entries: E) => v.pipe(JsonObject, v.looseObject(entries))
