// Latency summaries. Nearest-rank percentiles: the reported value is one that was really observed.

export type Summary = { count: number; mean: number; p50: number; p90: number; p99: number; max: number }

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

export function summarize(samples: number[]): Summary {
  const sorted = Float64Array.from(samples).sort()
  let sum = 0
  for (const x of sorted) sum += x
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  }
}

/** Rounds for the table and the JSON: 3 significant digits is all a noisy 2-core machine can tell apart. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(x))))
  return Math.round(x * scale) / scale
}
