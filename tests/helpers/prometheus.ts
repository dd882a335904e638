// Scrapes /metrics as a Prometheus server would read it. The whole text goes through a Prometheus
// text-format parser (parse-prometheus-text-format: it throws on a malformed line, and gives each family's
// type and help); sample values are then read line by line, since that parser merges a labelled
// histogram's series into one and drops their labels, _sum and _count.
import { createRequire } from 'node:module'
import type { Res } from './server.ts'

type Labels = Record<string, string>
export type Family = { name: string; help: string; type: string }
type Sample = { name: string; labels: Labels; value: number }

const parseText = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => Family[]

export type Scrape = {
  families: Map<string, Family>
  samples: Sample[]
  /** The value of the one counter or gauge series whose labels include `labels`; 0 when absent, as for an unseen counter. */
  value(name: string, labels?: Labels): number
  /** The summed _count and _sum of the histogram series whose labels include `labels`. */
  histogram(name: string, labels?: Labels): { count: number; sum: number }
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g

function sampleOf(line: string): Sample {
  const m = SAMPLE.exec(line)
  if (m === null) throw new Error(`not a sample line: ${line}`)
  const labels: Labels = {}
  for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
  return { name: m[1], labels, value: Number(m[3]) }
}

const includes = (sample: Sample, labels: Labels) => Object.entries(labels).every(([k, v]) => sample.labels[k] === v)

export function parseScrape(res: Res): Scrape {
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${res.text}`)
  const families = new Map(parseText(res.text).map((f) => [f.name, f]))
  const samples = res.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map(sampleOf)
  const find = (name: string, labels: Labels) => samples.filter((s) => s.name === name && includes(s, labels))
  const total = (name: string, labels: Labels) => find(name, labels).reduce((n, s) => n + s.value, 0)
  return {
    families,
    samples,
    value(name, labels = {}) {
      const found = find(name, labels)
      if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`)
      return found[0]?.value ?? 0
    },
    histogram: (name, labels = {}) => ({ count: total(`${name}_count`, labels), sum: total(`${name}_sum`, labels) }),
  }
}
