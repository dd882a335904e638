import type { WorkloadResult } from './types.ts'

export type Row = { workload: string; result?: WorkloadResult; error?: string; seconds: number }

/** One block per workload: its metrics in the order it reported them, then its notes. */
export function formatTable(rows: Row[]): string {
  const lines: string[] = []
  const width = Math.max(24, ...rows.flatMap((r) => Object.keys(r.result?.metrics ?? {}).map((k) => k.length)))
  for (const row of rows) {
    lines.push(`── ${row.workload} (${row.seconds.toFixed(1)} s) ${'─'.repeat(Math.max(0, width - row.workload.length))}`)
    if (row.error !== undefined) lines.push(`  FAILED: ${row.error}`)
    for (const [key, value] of Object.entries(row.result?.metrics ?? {})) {
      lines.push(`  ${key.padEnd(width)}  ${formatValue(value)}`)
    }
    for (const note of row.result?.notes ?? []) lines.push(`  · ${note}`)
  }
  return lines.join('\n')
}

function formatValue(v: number | string): string {
  if (typeof v === 'string') return v
  if (Number.isInteger(v)) return v.toLocaleString('en-US')
  return String(v)
}
