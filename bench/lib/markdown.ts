// node bench/lib/markdown.ts [file]: prints bench/results/latest.json (or the given results file, e.g.
// bench/results/latest-postgres.json) as the Markdown tables of bench/results/README.md.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './docket.ts'

type Latest = {
  machine: Record<string, unknown>
  quick: boolean
  load_average_at_end?: number[]
  workloads: Record<string, { seconds: number; metrics?: Record<string, number | string>; notes?: string[]; error?: string }>
}

export function toMarkdown(latest: Latest): string {
  const m = latest.machine
  const lines = [
    `Run of ${m.date}${latest.quick ? ' (quick)' : ''}: ` +
      `${m.cpu_model}, ${m.cores} cores, ${m.ram_gib} GiB RAM, Linux ${m.kernel}, Node ${m.node_version}, ` +
      `SQLite ${m.sqlite_version} (better-sqlite3 ${m.better_sqlite3_version}), load average ${(m.load_average_at_start as number[]).join(' / ')} at start, ${(latest.load_average_at_end ?? []).join(' / ')} at end.`,
    '',
  ]
  for (const [name, w] of Object.entries(latest.workloads)) {
    lines.push(`### ${name} (${w.seconds.toFixed(0)} s)`, '', '| metric | value |', '|---|---|')
    if (w.error !== undefined) lines.push(`| FAILED | ${w.error.split('\n')[0]} |`)
    for (const [k, v] of Object.entries(w.metrics ?? {})) lines.push(`| ${k} | ${typeof v === 'number' ? v.toLocaleString('en-US') : v} |`)
    lines.push('', ...(w.notes ?? []).map((n) => `- ${n}`), '')
  }
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? join(REPO_ROOT, 'bench/results/latest.json')
  process.stdout.write(toMarkdown(JSON.parse(readFileSync(file, 'utf8')) as Latest))
}
