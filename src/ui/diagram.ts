// A pipeline drawn as inline SVG: stages in a row (in the order a task first reaches them from the initial
// stage), forward transitions as arcs above, backward ones below, each labelled with its trigger.
import { html, type Html } from './html.ts'
import type { CompiledPipeline } from '../domain/pipeline.ts'

const BOX_W = 140
const BOX_H = 46
const GAP = 70
const MARGIN = 20

export function stageOrder(p: CompiledPipeline): string[] {
  const order: string[] = []
  const queue = [p.initial]
  while (queue.length > 0) {
    const stage = queue.shift()!
    if (order.includes(stage) || !p.stages.has(stage)) continue
    order.push(stage)
    for (const t of p.transitions) if (t.from === stage) queue.push(t.to)
  }
  for (const name of p.stages.keys()) if (!order.includes(name)) order.push(name)
  return order
}

export function pipelineDiagram(name: string, p: CompiledPipeline): Html {
  const order = stageOrder(p)
  const index = new Map(order.map((s, i) => [s, i]))
  const span = Math.max(1, ...p.transitions.map((t) => Math.abs(index.get(t.to)! - index.get(t.from)!)))
  const lift = (d: number, k: number) => 26 + 22 * d + 14 * k
  const top = MARGIN + lift(span, 2) + 8
  const width = MARGIN * 2 + order.length * BOX_W + (order.length - 1) * GAP
  const height = top + BOX_H + lift(span, 2) + 16
  const cx = (s: string) => MARGIN + index.get(s)! * (BOX_W + GAP) + BOX_W / 2
  const seen = new Map<string, number>()
  const edges = p.transitions.map((t) => {
    const key = `${t.from}\u0000${t.to}`
    const k = seen.get(key) ?? 0
    seen.set(key, k + 1)
    const d = index.get(t.to)! - index.get(t.from)!
    const forward = d > 0
    const y0 = forward ? top : top + BOX_H
    const h = (forward ? -1 : 1) * lift(Math.abs(d) || 1, k)
    const x1 = cx(t.from) + (d === 0 ? -20 : 8)
    const x2 = cx(t.to) + (d === 0 ? 20 : -8)
    const mid = (x1 + x2) / 2
    return html`<g><title>${t.from} → ${t.to} on ${t.trigger}</title><path class="edge" d="M ${x1} ${y0} Q ${mid} ${y0 + 2 * h} ${x2} ${y0}"/>
<polygon class="head" points="${arrowHead(x2, y0, x2 - mid, -2 * h)}"/>
<text x="${mid}" y="${y0 + h + (forward ? -4 : 14)}" text-anchor="middle">${t.trigger}</text></g>`
  })
  return html`<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Stages and transitions of ${name}">
${order.map((s) => {
    const info = p.stages.get(s)!
    const x = MARGIN + index.get(s)! * (BOX_W + GAP)
    return html`<g class="stage${info.isTerminal ? ' terminal' : ''}"><rect x="${x}" y="${top}" width="${BOX_W}" height="${BOX_H}" rx="6"/>
<text x="${x + BOX_W / 2}" y="${top + 19}" text-anchor="middle">${s}${s === p.initial ? ' ▸' : ''}</text>
<text x="${x + BOX_W / 2}" y="${top + 36}" text-anchor="middle">${info.isTerminal ? 'terminal' : info.agentRole ?? ''}</text></g>`
  })}
${edges}
</svg>`
}

/** A filled arrowhead whose tip is (x, y), pointing along (dx, dy) (the curve's tangent at its end). */
function arrowHead(x: number, y: number, dx: number, dy: number): string {
  const len = Math.hypot(dx, dy) || 1
  const ux = dx / len
  const uy = dy / len
  const bx = x - 9 * ux
  const by = y - 9 * uy
  const point = (px: number, py: number) => `${px.toFixed(1)},${py.toFixed(1)}`
  return `${point(x, y)} ${point(bx - 4 * uy, by + 4 * ux)} ${point(bx + 4 * uy, by - 4 * ux)}`
}
