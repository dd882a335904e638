export type Detail = { path: string; message: string }

/** A domain or request outcome that maps to a 4xx answer; rendered only by the router. */
export class AppError extends Error {
  readonly code: string
  readonly status: number
  readonly details: Detail[] | undefined
  readonly headers: Record<string, string> | undefined

  constructor(code: string, status: number, message: string, details?: Detail[], headers?: Record<string, string>) {
    super(message)
    this.code = code
    this.status = status
    this.details = details
    this.headers = headers
  }
}

export function validationError(details: Detail[], message = 'Request validation failed'): AppError {
  return new AppError('validation_failed', 400, message, details)
}

export function errorJson(code: string, message: string, details?: Detail[]): string {
  return JSON.stringify({ error: details ? { code, message, details } : { code, message } })
}

/**
 * One item of a task create failed: it answers as its cause does; a bulk create names the item (see
 * atItem in the tasks routes).
 */
export class TaskItemError extends AppError {
  readonly index: number
  readonly cause: AppError

  constructor(index: number, cause: AppError) {
    super(cause.code, cause.status, cause.message, cause.details, cause.headers)
    this.index = index
    this.cause = cause
  }
}
