// The overview's throughput chart: server-drawn inline SVG (no script, no library), one column per minute
// of the last hour, completed runs stacked on failed ones. A text summary goes with it for screen readers.
import { html, type Html } from './html.ts'
import type { ThroughputMinute } from '../store/types.ts'
import { isoTime } from './format.ts'

const MINUTES = 60
const WIDTH = 720
const HEIGHT = 140
const PAD = 28

export function throughputChart(minutes: ThroughputMinute[], nowMs: number): Html {
  const last = Math.floor(nowMs / 60_000) * 60_000
  const first = last - (MINUTES - 1) * 60_000
  const byMinute = new Map(minutes.map((m) => [m.minute_ms, m]))
  const series = Array.from({ length: MINUTES }, (_, i) => byMinute.get(first + i * 60_000) ?? { minute_ms: first + i * 60_000, completed: 0, failed: 0 })
  const completed = series.reduce((n, m) => n + m.completed, 0)
  const failed = series.reduce((n, m) => n + m.failed, 0)
  const peak = Math.max(1, ...series.map((m) => m.completed + m.failed))
  const step = (WIDTH - PAD) / MINUTES
  const y = (n: number) => ((HEIGHT - PAD) * n) / peak
  const summary = `Last hour: ${completed} runs completed, ${failed} failed; at most ${peak} in one minute.`
  return html`<figure>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${summary}">
  <line class="axis" x1="${PAD}" y1="${HEIGHT - PAD}" x2="${WIDTH}" y2="${HEIGHT - PAD}"/>
  <text x="0" y="12">${peak}</text><text x="0" y="${HEIGHT - PAD}">0</text>
  <text x="${PAD}" y="${HEIGHT - 8}">${isoTime(first).slice(11, 16)} UTC</text>
  <text x="${WIDTH - 40}" y="${HEIGHT - 8}">${isoTime(last).slice(11, 16)}</text>
  ${series.map((m, i) => {
    const x = (PAD + i * step + 1).toFixed(1)
    const w = Math.max(1, step - 2).toFixed(1)
    const hf = y(m.failed)
    const hc = y(m.completed)
    const base = HEIGHT - PAD
    return m.completed + m.failed === 0 ? '' : html`<g><title>${isoTime(m.minute_ms).slice(11, 16)}: ${m.completed} completed, ${m.failed} failed</title>
    <rect class="failed" x="${x}" y="${(base - hf).toFixed(1)}" width="${w}" height="${hf.toFixed(1)}"/>
    <rect class="completed" x="${x}" y="${(base - hf - hc).toFixed(1)}" width="${w}" height="${hc.toFixed(1)}"/></g>`
  })}
</svg>
<figcaption>${summary} <span class="muted">Green: completed; red: failed or expired.</span></figcaption>
</figure>`
}
