// PostgreSQL's text cannot hold U+0000; Docket's strings (titles, names, keys, agent ids, span names …) may,
// and must come back exactly. Every string the driver binds is encoded here and every text it reads is
// decoded here (connect.ts wires both into each pool client), so no query has to think about it:
//   U+0000 → U+0001 U+0001      U+0001 → U+0001 U+0002      anything else → itself
// Injective, and it keeps byte order (U+0001 U+0001 < U+0001 U+0002 < any other character, and a prefix
// stays a prefix), so equality, UNIQUE, ORDER BY … COLLATE "C" and key cursors give the answers the original
// strings would. Only strings holding U+0000 or U+0001 change at all; JSON.stringify output never holds
// either (it escapes them), so JSON text passes through untouched. schema.postgres.sql's docket_json() maps
// the JSON escapes \u0000 and \u0001 the same way, so values read out of JSON compare with bound strings.

const ESCAPE = '\u0001'

export function encodeText(s: string): string {
  if (!s.includes('\0') && !s.includes(ESCAPE)) return s
  return s.replace(/[\0\u0001]/g, (c) => (c === '\0' ? '\u0001\u0001' : '\u0001\u0002'))
}

/** The inverse of encodeText; a U+0001 that starts no pair (not written by encodeText) is kept as it is. */
export function decodeText(s: string): string {
  if (!s.includes(ESCAPE)) return s
  return s.replace(/\u0001([\u0001\u0002])/g, (_, c: string) => (c === ESCAPE ? '\0' : ESCAPE))
}

/** A bound parameter as the database must see it: strings (also inside arrays) encoded, the rest as is. */
export function encodeParam(value: unknown): unknown {
  if (typeof value === 'string') return encodeText(value)
  if (Array.isArray(value)) return value.map(encodeParam)
  return value
}
