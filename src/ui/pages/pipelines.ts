// Pipelines: each definition drawn as its stages and transitions, with roles and terminal stages; pause/resume.
import { html } from '../html.ts'
import { csrfField, notice, page } from '../layout.ts'
import { ok, seeOther, uiGet, uiPost, type UiRoute } from '../route.ts'
import { isoTime } from '../format.ts'
import { pipelineDiagram, stageOrder } from '../diagram.ts'
import { commitChange } from '../changes.ts'

export const pipelineRoutes: UiRoute[] = [
  uiGet('pipelines', async (req, app) => {
    const pipelines = await app.driver.reads.pipelines()
    const compiled = await Promise.all(pipelines.map((p) => app.driver.reads.compiledPipeline(p.id)))
    const done = req.query.get('done')
    return ok(page({ ...req.frame, title: 'Pipelines', section: 'pipelines', isLive: false }, html`
<h1>Pipelines</h1>
${notice(done === 'paused' ? 'Pipeline paused: no new claims from it.' : done === 'resumed' ? 'Pipeline resumed.' : null)}
${pipelines.length === 0 ? html`<p>No pipelines yet.</p>` : pipelines.map((p, i) => {
    const c = compiled[i]!
    return html`<section aria-labelledby="p-${p.id}">
<h2 id="p-${p.id}">${p.name} ${p.paused === 1 ? html`<span class="status status-delayed">paused</span>` : ''}</h2>
<p class="muted"><span class="id">${p.id}</span> · created ${isoTime(p.created_at_ms)}</p>
<form method="post" action="/ui/pipelines/${encodeURIComponent(p.id)}/${p.paused === 1 ? 'resume' : 'pause'}">${csrfField(req.frame.csrf)}
<button type="submit">${p.paused === 1 ? 'Resume' : 'Pause'}</button></form>
${pipelineDiagram(p.name, c)}
<details><summary>Stages and transitions as a table</summary>
<table><thead><tr><th scope="col">Stage</th><th scope="col">Role</th><th scope="col">Transitions</th></tr></thead>
<tbody>${stageOrder(c).map((s) => {
      const info = c.stages.get(s)!
      return html`<tr><td>${s}${s === c.initial ? ' (initial)' : ''}</td><td>${info.isTerminal ? 'terminal' : info.agentRole ?? '—'}</td>
<td>${c.transitions.filter((t) => t.from === s).map((t) => html`<div><code>${t.trigger}</code> → ${t.to}${t.requiredGates.length > 0 ? html` <span class="muted">(gates: ${t.requiredGates.join(', ')})</span>` : ''}</div>`)}</td></tr>`
    })}</tbody></table></details>
</section>`
  })}`))
  }),

  uiPost('pipelines/:id/pause', async (req, app) => {
    await commitChange(app, `/ui/pipelines/${req.params.id}/pause`, (c) => c.setPaused(req.params.id, true))
    return seeOther('/ui/pipelines?done=paused')
  }),

  uiPost('pipelines/:id/resume', async (req, app) => {
    await commitChange(app, `/ui/pipelines/${req.params.id}/resume`, (c) => c.setPaused(req.params.id, false))
    return seeOther('/ui/pipelines?done=resumed')
  }),
]
