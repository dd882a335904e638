// SQLite's own failure codes, turned into the answers of src/store/failures.ts.
import { storageBusy, storageFull } from '../failures.ts'
import type { AppError } from '../../domain/errors.ts'

const codeOf = (err: unknown): string => (err as { code?: unknown })?.code?.toString() ?? ''

/** SQLITE_BUSY and its extended codes: the lock is held elsewhere (busy_timeout is 0: nobody waits). */
export const isBusy = (err: unknown): boolean => codeOf(err).startsWith('SQLITE_BUSY')

/** SQLITE_FULL: the disk (or a page-count limit) has no room for the write. */
export const isFull = (err: unknown): boolean => codeOf(err) === 'SQLITE_FULL'

/** The answer for a storage failure, or null for anything else (a bug: 500). */
export function sqliteFailure(err: unknown): AppError | null {
  if (isBusy(err)) return storageBusy()
  if (isFull(err)) return storageFull()
  return null
}
