// A bulk requeue or cancel answers each item on its own, the same on every driver.
import type { AppError } from '../domain/errors.ts'
import type { BulkItemError } from './types.ts'

/** An item's refusal as the error envelope a single request would have answered. */
export function bulkItemError(err: AppError): BulkItemError {
  return err.details === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, details: err.details }
}
