export type RetryPolicy = { maxAttempts: number | null; retryDelayMs: number }

export type AfterFailure = { kind: 'retry'; nextEligibleAtMs: number } | { kind: 'dead_letter' }

/** What a failed attempt (a `fail` or an expired lease) leads to: a fixed-delay retry, or the dead letter. */
export function afterFailedAttempt(policy: RetryPolicy, failedAttempts: number, nowMs: number): AfterFailure {
  if (policy.maxAttempts !== null && failedAttempts >= policy.maxAttempts) return { kind: 'dead_letter' }
  return { kind: 'retry', nextEligibleAtMs: nowMs + policy.retryDelayMs }
}
