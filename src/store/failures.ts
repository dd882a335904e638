// What a storage failure means to a client, on either driver: the database is locked by another process
// (SQLite), or its disk is full. Both are answered (503, 507) instead of 500, and neither leaves anything
// half-written.
import { AppError } from '../domain/errors.ts'

export const RETRY_AFTER_S = 1

export function storageBusy(): AppError {
  return new AppError('storage_busy', 503, 'The database is locked by another process; retry shortly', undefined, { 'retry-after': String(RETRY_AFTER_S) })
}

export function storageFull(): AppError {
  return new AppError('storage_full', 507, 'The disk holding the database is full; nothing of this request was written')
}
