import { AppError } from '../domain/errors.ts'
import type { TimeCursor } from '../store/types.ts'

// Cursors are opaque to clients; a time cursor is "<created_at_ms>:<id>" of the last item returned.

export function parseTimeCursor(text: string | undefined): TimeCursor | null {
  if (text === undefined) return null
  const colon = text.indexOf(':')
  const ms = colon > 0 ? text.slice(0, colon) : ''
  if (!/^-?\d{1,16}$/.test(ms) || colon === text.length - 1) throw invalidCursor()
  return { createdAtMs: Number(ms), id: text.slice(colon + 1) }
}

export function timeCursorOf(row: { created_at_ms: number; id: string }): string {
  return `${row.created_at_ms}:${row.id}`
}

/** The position after a row, as parseTimeCursor reads its cursor. */
export function timeCursorOfRow(row: { created_at_ms: number; id: string }): TimeCursor {
  return { createdAtMs: row.created_at_ms, id: row.id }
}

/** Position after an item in a list ordered by an integer id. */
export function parseIdCursor(text: string | undefined): number | null {
  if (text === undefined) return null
  if (!/^\d{1,16}$/.test(text)) throw invalidCursor()
  return Number(text)
}

// A key cursor is the last key (or name) returned, base64url-encoded so that it needs no escaping in a URL.
export function keyCursorOf(key: string): string {
  return Buffer.from(key).toString('base64url')
}

/** Position after a key in a list ordered by key bytes. */
export function parseKeyCursor(text: string | undefined): string | null {
  if (text === undefined) return null
  const key = Buffer.from(text, 'base64url').toString()
  if (text === '' || keyCursorOf(key) !== text) throw invalidCursor()
  return key
}

function invalidCursor(): AppError {
  return new AppError('invalid_cursor', 400, 'Invalid cursor format', [{ path: 'query.cursor', message: 'not a cursor this list returned' }])
}

/**
 * Stores fetch limit + 1 rows; the extra row only says there is more. The cursor is that of the last item
 * returned, so the next page starts right after it and no item is skipped or repeated.
 */
export function pageJson<T>(rows: T[], limit: number, itemJson: (row: T) => string, cursorOf: (row: T) => string): string {
  const hasMore = rows.length > limit
  const items = hasMore ? rows.slice(0, limit) : rows
  const next = hasMore ? JSON.stringify(cursorOf(items[items.length - 1])) : 'null'
  return `{"items":[${items.map(itemJson).join(',')}],"next_cursor":${next}}`
}
