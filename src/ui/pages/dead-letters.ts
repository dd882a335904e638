// Dead letters: tasks that used up their attempts, with the reason and the last run's error, and requeue
// (optionally to another stage) or cancel each.
import { html } from '../html.ts'
import { notice, page } from '../layout.ts'
import { ok, uiGet, type UiRoute } from '../route.ts'
import { isoTime } from '../format.ts'
import { parseTimeCursor, timeCursorOf } from '../../http/pagination.ts'
import { actions } from './task.ts'
import { compiledOf } from './tasks.ts'

const PAGE_SIZE = 50

export const deadLetterRoutes: UiRoute[] = [
  uiGet('dead-letters', async (req, app) => {
    const { reads } = app.driver
    const cursor = req.query.get('cursor') ?? undefined
    const rows = await reads.deadLetters(parseTimeCursor(cursor), PAGE_SIZE)
    const items = rows.slice(0, PAGE_SIZE)
    const next = rows.length > PAGE_SIZE ? timeCursorOf(items[items.length - 1]) : null
    const [lastRuns, pipelines, compiled] = await Promise.all([
      Promise.all(items.map((t) => reads.latestRun(t.id))), reads.pipelines(), compiledOf(app, items),
    ])
    const names = new Map(pipelines.map((p) => [p.id, p.name]))
    return ok(page({ ...req.frame, title: 'Dead letters', section: 'dead-letters', isLive: true }, html`
<h1>Dead letters</h1>
${notice(req.query.get('done') === null ? null : 'Done.')}
<div id="live">
${items.length === 0 ? html`<p>No dead-lettered task.</p>` : html`<table>
<thead><tr><th scope="col">Task</th><th scope="col">Pipeline / stage</th><th scope="col">Reason</th><th scope="col">Last error</th><th scope="col">Since</th><th scope="col">Actions</th></tr></thead>
<tbody>${items.map((t, i) => html`<tr>
<td><a href="/ui/tasks/${encodeURIComponent(t.id)}">${t.title}</a><br><span class="id muted">${t.id}</span></td>
<td>${names.get(t.pipeline_id) ?? t.pipeline_id} / ${t.stage}</td>
<td>${t.dead_letter_reason} <span class="muted">after ${t.failed_attempts} attempt(s)</span></td>
<td><code>${lastRuns[i]?.error_text ?? '—'}</code></td><td>${isoTime(t.updated_at_ms)}</td>
<td>${actions(t, compiled.get(t.pipeline_id), req.frame.csrf, `/ui/dead-letters?done=1`)}</td></tr>`)}</tbody></table>`}
<nav class="pager" aria-label="Pages">${cursor === undefined ? '' : html`<a href="/ui/dead-letters">First page</a>`}
${next === null ? '' : html`<a href="/ui/dead-letters?${String(new URLSearchParams({ cursor: next }))}" rel="next">Next page</a>`}</nav>
</div>`))
  }),
]
