// How the console shows times and durations: absolute times in UTC (ISO, to the second), ages rounded.

export function isoTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '—' : new Date(ms).toISOString().replace('.000Z', 'Z').replace(/\.\d{3}Z$/, 'Z')
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
