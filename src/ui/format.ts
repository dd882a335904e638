// How the console shows times and durations: absolute times in UTC (ISO, to the second), ages rounded.

export function isoTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  // The API takes times up to 2^53 ms; a Date holds ±8.64e15 ms. Past that, the number itself.
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 90) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`
  const m = s / 60
  if (m < 90) return `${Math.round(m)} min`
  const h = m / 60
  return h < 48 ? `${h.toFixed(1)} h` : `${(h / 24).toFixed(1)} d`
}
