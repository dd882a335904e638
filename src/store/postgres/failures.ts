// PostgreSQL's failure codes: which to retry, and which answer a client gets for the rest.
import { storageFull } from '../failures.ts'
import type { AppError } from '../../domain/errors.ts'

const codeOf = (err: unknown): string => (err as { code?: unknown })?.code?.toString() ?? ''

/** A serialization failure or a deadlock: the transaction did nothing and may simply run again. */
export const isRetryable = (err: unknown): boolean => ['40001', '40P01'].includes(codeOf(err))

/** The answer for a storage failure, or null for anything else (a bug: 500). */
export function pgFailure(err: unknown): AppError | null {
  // disk_full, out of memory on the server, too many connections to write anything: the disk is the one we name.
  if (codeOf(err) === '53100') return storageFull()
  return null
}
