// What SQLite's own failures mean to a client: another process holds the lock, or the disk is full. Both
// are answered (503, 507) instead of 500 "internal_error"; neither leaves anything half-written.
import { AppError } from '../../domain/errors.ts'

const codeOf = (err: unknown): string => (err as { code?: unknown })?.code?.toString() ?? ''

/** SQLITE_BUSY and its extended codes: the lock is held elsewhere (busy_timeout is 0: nobody waits). */
export const isBusy = (err: unknown): boolean => codeOf(err).startsWith('SQLITE_BUSY')

/** SQLITE_FULL: the disk (or a page-count limit) has no room for the write. */
export const isFull = (err: unknown): boolean => codeOf(err) === 'SQLITE_FULL'

export const RETRY_AFTER_S = 1

export function storageBusy(): AppError {
  return new AppError('storage_busy', 503, 'The database is locked by another process; retry shortly', undefined, { 'retry-after': String(RETRY_AFTER_S) })
}

export function storageFull(): AppError {
  return new AppError('storage_full', 507, 'The disk holding the database is full; nothing of this request was written')
}

/** The answer for a storage failure, or null for anything else (a bug: 500). */
export function storageFailure(err: unknown): AppError | null {
  if (isBusy(err)) return storageBusy()
  if (isFull(err)) return storageFull()
  return null
}
