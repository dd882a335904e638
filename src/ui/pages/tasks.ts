// Tasks: filter, cursor paging, and bulk requeue/cancel of the selection or of everything that matches
// (a confirmation page shows the count first). Bulk actions loop over the single-task changes in bounded
// batches; issue 17's bulk endpoints will replace the loop.
import type { App } from '../../app.ts'
import { html, type Html } from '../html.ts'
import { csrfField, errorBox, notice, page } from '../layout.ts'
import { ok, seeOther, uiGet, uiPost, type UiRequest, type UiRoute } from '../route.ts'
import { isoTime } from '../format.ts'
import { taskStatus, TASK_STATUS } from '../status.ts'
import { filterForm, filterQuery, taskFilterOf, FILTER_FIELDS, type FilterForm } from '../task-filter.ts'
import { timeCursorOf } from '../../http/pagination.ts'
import type { CompiledPipeline } from '../../domain/pipeline.ts'
import type { TaskRow } from '../../store/types.ts'
import { commitBulk } from '../changes.ts'
import { AppError } from '../../domain/errors.ts'

const PAGE_SIZE = 50
/** A bulk action over a filter takes at most this many tasks (the confirmation says so when it is hit). */
export const BULK_MAX = 10_000
const BULK_PAGE = 500

export const taskListRoutes: UiRoute[] = [
  uiGet('tasks', async (req, app) => {
    const form = filterForm(req.query)
    const rows = await app.driver.reads.tasks(taskFilterOf(form, req.query.get('cursor') ?? undefined, PAGE_SIZE, req.nowMs))
    const items = rows.slice(0, PAGE_SIZE)
    const next = rows.length > PAGE_SIZE ? timeCursorOf(items[items.length - 1]) : null
    const pipelines = await app.driver.reads.pipelines()
    const names = new Map(pipelines.map((p) => [p.id, p.name]))
    const compiled = await compiledOf(app, items)
    const done = req.query.get('done')
    const message = done === null ? null : `${done} task(s) ${req.query.get('action') === 'cancel' ? 'canceled' : 'requeued'}` +
      (req.query.get('failed') && req.query.get('failed') !== '0' ? `; ${req.query.get('failed')} could not be (${req.query.get('why') ?? 'refused'})` : '') + '.'
    return ok(page({ ...req.frame, title: 'Tasks', section: 'tasks', isLive: true }, html`
<h1>Tasks</h1>
${notice(message)}
<form class="filters" method="get" action="/ui/tasks" aria-label="Filter tasks">
  <label>Pipeline <select name="pipeline"><option value="">any</option>${pipelines.map((p) =>
    html`<option value="${p.id}"${form.pipeline === p.id ? html` selected` : ''}>${p.name}</option>`)}</select></label>
  <label>Stage <input name="stage" value="${form.stage ?? ''}" size="12"></label>
  <label>Status <select name="status"><option value="">any</option>${TASK_STATUS.map((s) =>
    html`<option${form.status === s ? html` selected` : ''}>${s}</option>`)}</select></label>
  <label>Assignee <input name="assignee" value="${form.assignee ?? ''}" size="12"></label>
  <label>Text <input name="q" type="search" value="${form.q ?? ''}" size="16"></label>
  <label>Created after <input name="created_after" type="datetime-local" value="${form.created_after ?? ''}"></label>
  <label>Created before <input name="created_before" type="datetime-local" value="${form.created_before ?? ''}"></label>
  <label>Order <select name="order">${['oldest', 'newest'].map((o) => html`<option${form.order === o ? html` selected` : ''}>${o}</option>`)}</select></label>
  <button type="submit">Filter</button> <a href="/ui/tasks">Clear</a>
</form>
<div id="live">
<form method="post" action="/ui/tasks/bulk">
${csrfField(req.frame.csrf)}${hiddenFilter(form)}
<div class="actions">
  <button type="submit" name="do" value="requeue-selected">Requeue selected</button>
  <button type="submit" name="do" value="cancel-selected" class="danger">Cancel selected</button>
  <button type="submit" name="do" value="requeue-matching">Requeue all matching…</button>
  <button type="submit" name="do" value="cancel-matching" class="danger">Cancel all matching…</button>
</div>
${items.length === 0 ? html`<p>No tasks match.</p>` : taskTable(items, names, compiled, req.nowMs)}
</form>
<nav class="pager" aria-label="Pages">${req.query.get('cursor') ? html`<a href="/ui/tasks?${filterQuery(form)}">First page</a>` : ''}
${next === null ? '' : html`<a href="/ui/tasks?${filterQuery(form, { cursor: next })}" rel="next">Next page</a>`}</nav>
</div>`))
  }),

  uiPost('tasks/bulk', async (req, app) => {
    const form = filterForm(req.form)
    const [action, scope] = (req.form.get('do') ?? '').split('-')
    if ((action !== 'requeue' && action !== 'cancel') || (scope !== 'selected' && scope !== 'matching')) {
      throw new AppError('invalid_action', 400, 'Unknown bulk action')
    }
    const ids = scope === 'selected' ? req.form.getAll('id') : await matchingIds(app, form)
    if (req.form.get('confirm') !== 'yes') return ok(confirmPage(req, action, scope, form, ids))
    const result = await commitBulk(app, ids, (c, batch, nowMs) =>
      action === 'cancel' ? c.cancelTasks(batch, 'canceled from the console', nowMs) : c.requeueTasks(batch, null, nowMs))
    if (action === 'requeue') app.metrics.requeues.inc(result.done)
    const report: Record<string, string> = { action, done: String(result.done), failed: String(result.failed) }
    if (result.firstError !== null) report.why = result.firstError
    return seeOther(`/ui/tasks?${filterQuery(form, report)}`)
  }),
]

function taskTable(items: TaskRow[], names: Map<string, string>, compiled: Map<string, CompiledPipeline | undefined>, nowMs: number): Html {
  return html`<table>
<thead><tr><th scope="col"><span class="muted">Select</span></th><th scope="col">Title</th><th scope="col">Pipeline</th><th scope="col">Stage</th>
<th scope="col">Status</th><th scope="col" class="num">Priority</th><th scope="col">Assignee</th><th scope="col">Created</th></tr></thead>
<tbody>${items.map((t) => {
    const status = taskStatus(t, compiled.get(t.pipeline_id), nowMs)
    return html`<tr><td><input type="checkbox" name="id" value="${t.id}" aria-label="Select ${t.title}"></td>
<td><a href="/ui/tasks/${encodeURIComponent(t.id)}">${t.title}</a><br><span class="id muted">${t.id}</span></td>
<td>${names.get(t.pipeline_id) ?? t.pipeline_id}</td><td>${t.stage}</td><td><span class="status status-${status}">${status}</span></td>
<td class="num">${t.priority}</td><td>${t.assignee ?? '—'}</td><td>${isoTime(t.created_at_ms)}</td></tr>`
  })}</tbody></table>`
}

function hiddenFilter(form: FilterForm): Html[] {
  return FILTER_FIELDS.filter((f) => form[f] !== undefined).map((f) => html`<input type="hidden" name="${f}" value="${form[f]}">`)
}

function confirmPage(req: UiRequest, action: string, scope: string, form: FilterForm, ids: string[]): Html {
  const verb = action === 'cancel' ? 'Cancel' : 'Requeue'
  const what = scope === 'selected' ? 'selected' : 'matching the filter'
  const capped = scope === 'matching' && ids.length >= BULK_MAX
  return page({ ...req.frame, title: `${verb} tasks`, section: 'tasks', isLive: false }, html`
<h1>${verb} ${ids.length} task(s) ${what}?</h1>
${errorBox(ids.length === 0 ? 'Nothing to do: no task is selected or matches.' : null)}
${capped ? html`<p>At most ${BULK_MAX} tasks are taken at once; run it again for the rest.</p>` : ''}
${scope === 'matching' ? html`<p>Filter: ${Object.entries(form).map(([k, v]) => html`<code>${k}=${v}</code> `)}</p>` : ''}
${action === 'requeue' ? html`<p class="muted">Requeue puts a dead-lettered or canceled task back in its stage (or its pipeline's initial stage) with a fresh attempt count; tasks that cannot be requeued are counted as refused.</p>` : ''}
<form method="post" action="/ui/tasks/bulk">
${csrfField(req.frame.csrf)}${hiddenFilter(form)}
${scope === 'selected' ? ids.map((id) => html`<input type="hidden" name="id" value="${id}">`) : ''}
<input type="hidden" name="confirm" value="yes">
<div class="actions"><button type="submit" name="do" value="${action}-${scope}"${action === 'cancel' ? html` class="danger"` : ''}${ids.length === 0 ? html` disabled` : ''}>${verb} ${ids.length} task(s)</button>
<a href="/ui/tasks?${filterQuery(form)}">Back</a></div>
</form>`)
}

/** The ids of the tasks the filter matches, page by page, at most BULK_MAX. */
async function matchingIds(app: App, form: FilterForm): Promise<string[]> {
  const ids: string[] = []
  let cursor: string | undefined
  while (ids.length < BULK_MAX) {
    const rows = await app.driver.reads.tasks(taskFilterOf(form, cursor, Math.min(BULK_PAGE, BULK_MAX - ids.length), app.clock.now()))
    const page = rows.slice(0, Math.min(BULK_PAGE, BULK_MAX - ids.length))
    for (const t of page) ids.push(t.id)
    if (rows.length <= page.length) break
    cursor = timeCursorOf(page[page.length - 1])
  }
  return ids
}

export async function compiledOf(app: App, tasks: TaskRow[]): Promise<Map<string, CompiledPipeline | undefined>> {
  const ids = [...new Set(tasks.map((t) => t.pipeline_id))]
  return new Map(await Promise.all(ids.map(async (id) => [id, await app.driver.reads.compiledPipeline(id)] as const)))
}
