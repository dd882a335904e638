// Overview: per pipeline and stage the counts of claimable, delayed, blocked, leased and dead-lettered tasks
// with the oldest claimable age; throughput of the last hour; leases near expiry.
import { html } from '../html.ts'
import { page } from '../layout.ts'
import { ok, uiGet, type UiRoute } from '../route.ts'
import { throughputChart } from '../chart.ts'
import { duration, isoTime } from '../format.ts'
import type { StageOverview } from '../../store/types.ts'
import { gateQueues } from '../../http/gates.ts'

const HOUR_MS = 3_600_000
const NEAR_EXPIRY_MS = 60_000

export const overviewRoutes: UiRoute[] = [
  uiGet('', async (req, app) => {
    const { reads } = app.driver
    const [stages, minutes, leases, pipelines] = await Promise.all([
      reads.stageOverview(req.nowMs), reads.throughput(req.nowMs - HOUR_MS + 1),
      reads.leasesExpiring(req.nowMs, req.nowMs + NEAR_EXPIRY_MS, 20), reads.pipelines(),
    ])
    const gates = await gateQueues(app, pipelines)
    const names = new Map(pipelines.map((p) => [p.id, p.name]))
    const link = (s: StageOverview, status: string, n: number) =>
      n === 0 ? html`<span class="muted">0</span>` : html`<a href="/ui/tasks?${String(new URLSearchParams({ pipeline: s.pipeline_id, stage: s.stage, status }))}">${n}</a>`
    return ok(page({ ...req.frame, title: 'Overview', section: 'overview', isLive: true }, html`
<h1>Overview</h1>
<div id="live">
<p class="muted">As of ${isoTime(req.nowMs)}.</p>
<h2>Queues</h2>
${stages.length === 0 ? html`<p>No pipelines yet.</p>` : html`
<table>
<thead><tr><th scope="col">Pipeline</th><th scope="col">Stage</th><th scope="col" class="num">Claimable</th><th scope="col" class="num">Delayed</th>
<th scope="col" class="num">Blocked</th><th scope="col" class="num">Leased</th><th scope="col" class="num">Dead-lettered</th><th scope="col" class="num">Oldest claimable</th></tr></thead>
<tbody>${stages.map((s) => html`<tr>
<td>${names.get(s.pipeline_id) ?? s.pipeline_id}</td><td>${s.stage}</td>
<td class="num">${link(s, 'claimable', s.claimable)}</td><td class="num">${link(s, 'delayed', s.delayed)}</td>
<td class="num">${link(s, 'blocked', s.blocked)}</td><td class="num">${link(s, 'leased', s.leased)}</td>
<td class="num">${s.dead_lettered === 0 ? html`<span class="muted">0</span>` : html`<a href="/ui/dead-letters">${s.dead_lettered}</a>`}</td>
<td class="num">${s.oldest_claimable_at_ms === null ? '—' : duration(req.nowMs - s.oldest_claimable_at_ms)}</td></tr>`)}</tbody>
</table>`}
${gates.length === 0 ? '' : html`<h2>Human gates</h2>
<table>
<thead><tr><th scope="col">Pipeline</th><th scope="col">Gate</th><th scope="col" class="num">Waiting</th></tr></thead>
<tbody>${gates.map((g) => html`<tr><td>${g.pipeline_name}</td><td>${g.stage}</td>
<td class="num">${g.waiting_count === 0 ? html`<span class="muted">0</span>` : html`<a href="/ui/tasks?${String(new URLSearchParams({ pipeline: g.pipeline_id, stage: g.stage }))}">${g.waiting_count}</a>`}</td></tr>`)}</tbody>
</table>`}
<h2>Throughput, last hour</h2>
${throughputChart(minutes, req.nowMs)}
<h2>Leases expiring within a minute</h2>
${leases.length === 0 ? html`<p class="muted">None.</p>` : html`<table>
<thead><tr><th scope="col">Task</th><th scope="col">Pipeline / stage</th><th scope="col">Agent</th><th scope="col" class="num">Expires in</th></tr></thead>
<tbody>${leases.map((l) => html`<tr><td><a href="/ui/tasks/${encodeURIComponent(l.task_id)}">${l.title}</a></td>
<td>${names.get(l.pipeline_id) ?? l.pipeline_id} / ${l.stage}</td><td>${l.agent_id} <span class="muted">(${l.agent_role})</span></td>
<td class="num">${duration(l.lease_expires_at_ms - req.nowMs)}</td></tr>`)}</tbody></table>`}
</div>`))
  }),
]

