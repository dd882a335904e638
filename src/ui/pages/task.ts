// Task detail: fields, dependencies both ways, assignments, every run, the runs' events, artifacts and spans
// in one time-ordered list, and the requeue and cancel actions. (Moving a task's priority waits for issue
// 17's PATCH /tasks/{id}.)
import { html, type Html } from '../html.ts'
import { csrfField, notice, page } from '../layout.ts'
import { ok, returnTo, seeOther, uiGet, uiPost, type UiRoute } from '../route.ts'
import { duration, isoTime } from '../format.ts'
import { taskStatus } from '../status.ts'
import { timelineOf } from '../timeline.ts'
import { commitChange } from '../changes.ts'
import { AppError } from '../../domain/errors.ts'
import { isGateStage, type CompiledPipeline } from '../../domain/pipeline.ts'
import type { TaskRow } from '../../store/types.ts'

const RUN_LIMIT = 100

const NOTICES: Record<string, string> = { requeued: 'Task requeued.', canceled: 'Task canceled.', reprioritized: 'Priority changed.', signaled: 'Signal sent.' }

export const taskRoutes: UiRoute[] = [
  uiGet('tasks/:id', async (req, app) => {
    const { reads } = app.driver
    const task = await reads.task(req.params.id)
    if (task === undefined) throw new AppError('task_not_found', 404, `task ${req.params.id} not found`)
    const [pipeline, compiled, upstream, downstream, assignments, runRows] = await Promise.all([
      reads.pipeline(task.pipeline_id), reads.compiledPipeline(task.pipeline_id), reads.dependencies(task.id),
      reads.dependents(task.id), reads.assignments(task.id), reads.runs(task.id, 0, RUN_LIMIT),
    ])
    const runs = runRows.slice(0, RUN_LIMIT)
    const attempts = new Map(runs.map((r) => [r.id, r.attempt]))
    const timeline = await timelineOf(app, task.id, runs)
    const status = taskStatus(task, compiled, req.nowMs)
    return ok(page({ ...req.frame, title: task.title, section: 'tasks', isLive: true }, html`
<p><a href="/ui/tasks">← Tasks</a></p>
<h1>${task.title}</h1>
${notice(NOTICES[req.query.get('done') ?? ''] ?? null)}
<div id="live">
<div class="grid">
<section aria-labelledby="fields"><h2 id="fields">Fields</h2>
<dl class="fields">
<dt>Id</dt><dd class="id">${task.id}</dd>
<dt>Status</dt><dd><span class="status status-${status}">${status}</span>${task.dead_letter_reason ? html` <span class="muted">(${task.dead_letter_reason})</span>` : ''}</dd>
<dt>Pipeline</dt><dd>${pipeline?.name ?? task.pipeline_id}</dd>
<dt>Stage</dt><dd>${task.stage}</dd>
<dt>Priority</dt><dd>${task.priority}</dd>
<dt>Assignee</dt><dd>${task.assignee ?? '—'}</dd>
<dt>Failed attempts</dt><dd>${task.failed_attempts}${task.max_attempts === null ? '' : ` of ${task.max_attempts}`}</dd>
<dt>Eligible at</dt><dd>${isoTime(task.next_eligible_at_ms)}</dd>
<dt>Version</dt><dd>${task.task_version}</dd>
<dt>Created</dt><dd>${isoTime(task.created_at_ms)}</dd>
<dt>Updated</dt><dd>${isoTime(task.updated_at_ms)}</dd>
</dl>
<h3>Description</h3><pre>${task.description || '—'}</pre>
<h3>Metadata</h3><pre>${pretty(task.metadata_json)}</pre>
</section>
<section aria-labelledby="actions"><h2 id="actions">Actions</h2>
${actions(task, compiled, req.frame.csrf, null)}
${gateActions(task, compiled, req.frame.csrf)}
<h2>Depends on</h2>
${upstream.length === 0 ? html`<p class="muted">Nothing.</p>` : html`<ul>${upstream.map((d) =>
  html`<li><a href="/ui/tasks/${encodeURIComponent(d.depends_on_task_id)}" class="id">${d.depends_on_task_id}</a> ${d.resolved ? html`<span class="status status-done">resolved</span>` : html`<span class="status status-blocked">open</span>`}</li>`)}</ul>`}
<h2>Needed by</h2>
${downstream.length === 0 ? html`<p class="muted">Nothing.</p>` : html`<ul>${downstream.map((id) =>
  html`<li><a href="/ui/tasks/${encodeURIComponent(id)}" class="id">${id}</a></li>`)}</ul>`}
<h2>Assignments</h2>
${assignments.length === 0 ? html`<p class="muted">None.</p>` : html`<table><thead><tr><th scope="col">Agent</th><th scope="col">By</th><th scope="col">Active</th><th scope="col">Since</th></tr></thead>
<tbody>${assignments.map((a) => html`<tr><td>${a.agent_id}</td><td>${a.assigned_by ?? '—'}</td><td>${a.active === 1 ? 'yes' : 'no'}</td><td>${isoTime(a.created_at_ms)}</td></tr>`)}</tbody></table>`}
</section>
</div>
<h2>Runs</h2>
${runs.length === 0 ? html`<p class="muted">No run yet.</p>` : html`<table>
<thead><tr><th scope="col" class="num">Attempt</th><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col" class="num">Duration</th><th scope="col">Error</th><th scope="col">Usage</th></tr></thead>
<tbody>${runs.map((r) => html`<tr><td class="num">${r.attempt}</td><td>${r.agent_id} <span class="muted">(${r.agent_role})</span></td>
<td><span class="status status-${r.status}">${r.status}</span></td><td>${isoTime(r.started_at_ms)}</td>
<td class="num">${duration((r.ended_at_ms ?? req.nowMs) - r.started_at_ms)}</td><td>${r.error_text ?? '—'}</td><td><code>${r.usage_json}</code></td></tr>`)}</tbody></table>`}
<h2>Timeline</h2>
${timeline.length === 0 ? html`<p class="muted">Nothing recorded.</p>` : html`<table>
<thead><tr><th scope="col">Time</th><th scope="col" class="num">Attempt</th><th scope="col">Source</th><th scope="col">What</th><th scope="col">Detail</th></tr></thead>
<tbody>${timeline.map((i) => html`<tr><td>${isoTime(i.atMs)}</td><td class="num">${i.runId === null ? '—' : attempts.get(i.runId) ?? '—'}</td>
<td>${i.source}</td><td>${i.label}</td><td><code>${i.detail}</code></td></tr>`)}</tbody></table>`}
</div>`))
  }),

  uiPost('tasks/:id/requeue', async (req, app) => {
    const stage = req.form.get('stage') || null
    await commitChange(app, `/ui/tasks/${req.params.id}/requeue`, (c) => c.requeueTask(req.params.id, stage, app.clock.now()))
    app.metrics.requeues.inc()
    return seeOther(returnTo(req.form, `/ui/tasks/${encodeURIComponent(req.params.id)}?done=requeued`))
  }),

  uiPost('tasks/:id/priority', async (req, app) => {
    const text = req.form.get('priority')?.trim() ?? ''
    const priority = /^-?\d{1,15}$/.test(text) ? Number(text) : NaN
    if (!Number.isSafeInteger(priority)) throw new AppError('validation_failed', 400, 'Priority must be an integer')
    await commitChange(app, `/ui/tasks/${req.params.id}/priority`, (c) => c.editTask(req.params.id, { priority }, app.clock.now()))
    return seeOther(returnTo(req.form, `/ui/tasks/${encodeURIComponent(req.params.id)}?done=reprioritized`))
  }),

  // A person lets a task out of a human gate along one of its transitions (POST /tasks/{id}/signal).
  uiPost('tasks/:id/signal', async (req, app) => {
    const trigger = req.form.get('trigger') ?? ''
    const note = req.form.get('note')?.trim() || null
    await commitChange(app, `/ui/tasks/${req.params.id}/signal`, (c) =>
      c.signalTask(req.params.id, { trigger, data: note === null ? null : { note }, expectedStage: req.form.get('stage') || null }, app.clock.now()))
    return seeOther(`/ui/tasks/${encodeURIComponent(req.params.id)}?done=signaled`)
  }),

  uiPost('tasks/:id/cancel', async (req, app) => {
    const reason = req.form.get('reason') || null
    await commitChange(app, `/ui/tasks/${req.params.id}/cancel`, (c) => c.cancelTask(req.params.id, reason, app.clock.now()))
    return seeOther(returnTo(req.form, `/ui/tasks/${encodeURIComponent(req.params.id)}?done=canceled`))
  }),
]

/** Requeue (optionally to another stage) and cancel forms; shared with the dead-letter list. */
export function actions(task: TaskRow, compiled: CompiledPipeline | undefined, csrf: string, back: string | null): Html {
  const path = `/ui/tasks/${encodeURIComponent(task.id)}`
  const stages = compiled === undefined ? [] : [...compiled.stages.values()].filter((s) => !s.isTerminal).map((s) => s.name)
  const returnField = back === null ? '' : html`<input type="hidden" name="return" value="${back}">`
  return html`<div class="actions">
<form method="post" action="${path}/requeue" class="inline">${csrfField(csrf)}${returnField}
  <label>Requeue to <select name="stage"><option value="">its stage (${task.stage})</option>${stages.filter((s) => s !== task.stage).map((s) => html`<option>${s}</option>`)}</select></label>
  <button type="submit">Requeue</button></form>
<form method="post" action="${path}/priority" class="inline">${csrfField(csrf)}${returnField}
  <label>Priority <input name="priority" type="number" step="1" value="${String(task.priority)}" size="6" required></label>
  <button type="submit">Set priority</button></form>
<form method="post" action="${path}/cancel" class="inline">${csrfField(csrf)}${returnField}
  <label>Reason <input name="reason" size="14"></label>
  <button type="submit" class="danger" data-confirm="Cancel this task?">Cancel</button></form>
</div>`
}

function pretty(json: string): string {
  return JSON.stringify(JSON.parse(json), null, 2)
}

/** At a human gate: one button per transition out of it, with an optional note kept in the task's event. */
function gateActions(task: TaskRow, compiled: CompiledPipeline | undefined, csrf: string): Html | string {
  if (compiled === undefined || !isGateStage(compiled, task.stage) || task.dead_letter_reason !== null) return ''
  const path = `/ui/tasks/${encodeURIComponent(task.id)}/signal`
  const ways = compiled.transitions.filter((t) => t.from === task.stage)
  return html`<section aria-labelledby="gate"><h2 id="gate">Human gate</h2>
<form method="post" action="${path}">${csrfField(csrf)}<input type="hidden" name="stage" value="${task.stage}">
  <label>Note <input name="note" size="24"></label>
  ${ways.map((t) => html`<button type="submit" name="trigger" value="${t.trigger}">${t.trigger} → ${t.to}</button>`)}
</form></section>`
}
