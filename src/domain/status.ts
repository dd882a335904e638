export const RUN_STATUS = ['running', 'completed', 'failed', 'stale', 'canceled', 'released'] as const
export type RunStatus = (typeof RUN_STATUS)[number]

export const DEAD_LETTER_REASON = ['max_attempts_exceeded', 'canceled'] as const
export type DeadLetterReason = (typeof DEAD_LETTER_REASON)[number]

/** Event kinds only the server writes; agents may not append them. */
export const SYSTEM_EVENT_KINDS: ReadonlySet<string> = new Set([
  'transition', 'retry_scheduled', 'dead_letter', 'lease_expired', 'canceled', 'requeued', 'claimed', 'failed', 'released',
])
