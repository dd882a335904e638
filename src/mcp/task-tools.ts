// Tools that read and add work, and the notes store: no lease needed.
import * as v from 'valibot'
import type { McpServer } from '@modelcontextprotocol/server'
import { answer, ok } from './results.ts'
import { args, call, Id, TaskId, type McpSession } from './session.ts'
import { compactTask } from './lease-tools.ts'
import { TASK_STATUS } from '../domain/task-status.ts'

const seg = encodeURIComponent
const Namespace = v.pipe(v.string(), v.minLength(1), v.maxLength(512), v.description('A namespace, e.g. "decisions" or "notes".'))
const Key = v.pipe(v.string(), v.minLength(1), v.maxLength(512), v.description('The key within the namespace.'))
/** Events of a task's latest run that get_task shows (the most recent). */
const RECENT_EVENTS = 20
const EVENT_PAGES = 5

const query = (params: Record<string, string | number | undefined>) => {
  const q = new URLSearchParams()
  for (const [k, value] of Object.entries(params)) if (value !== undefined) q.set(k, String(value))
  const text = q.toString()
  return text === '' ? '' : `?${text}`
}

/** A task with its runs and the latest run's recent events (get_task, and the docket://tasks/{id} resource). */
export async function taskDetail(s: McpSession, taskId: string): Promise<Record<string, unknown>> {
  const task = (await call(s, { method: 'GET', path: `/tasks/${seg(taskId)}` })).body
  const runs = (await call(s, { method: 'GET', path: `/tasks/${seg(taskId)}/runs?limit=100` })).body.items
  const latest = runs.at(-1)
  let events: unknown[] = []
  if (latest !== undefined) {
    let cursor: string | null = null
    for (let page = 0; page < EVENT_PAGES; page++) {
      const got: any = (await call(s, { method: 'GET', path: `/runs/${seg(latest.id)}/events${query({ limit: 100, cursor: cursor ?? undefined })}` })).body
      events = [...events, ...got.items].slice(-RECENT_EVENTS)
      cursor = got.next_cursor
      if (cursor === null) break
    }
  }
  const held = s.book.find(taskId, s.agentId)
  return { task, runs, recent_events: events, held_by_you: held !== undefined }
}

export function registerTaskTools(server: McpServer, s: McpSession): void {
  server.registerTool('list_tasks', {
    description: 'List or find tasks, oldest first (newest first with newest_first), optionally by pipeline, stage, status, assignee or words in their title, description and metadata; compact rows unless full is true. Pass next_cursor back as cursor for the next page.',
    inputSchema: args({
      pipeline: v.optional(v.pipe(Id, v.description('A pipeline id.'))),
      stage: v.optional(v.pipe(Id, v.description('A stage name.'))),
      q: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(4096), v.description('Words that must all appear (each a literal term, as in store_search).'))),
      status: v.optional(v.pipe(v.picklist(TASK_STATUS), v.description('claimable, delayed, blocked, leased, dead_lettered, canceled or done.'))),
      assignee: v.optional(v.pipe(Id, v.description('Tasks assigned to this agent id.'))),
      newest_first: v.optional(v.pipe(v.boolean(), v.description('Newest tasks first.'))),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100), v.description('Rows per page (default 20).'))),
      cursor: v.optional(v.pipe(v.string(), v.description('next_cursor of the previous page.'))),
      full: v.optional(v.pipe(v.boolean(), v.description('Also description and metadata of each task.'))),
    }),
    annotations: { readOnlyHint: true },
  }, (a) => answer(s.log, 'list_tasks', async () => {
    const filters = { pipeline_id: a.pipeline, stage: a.stage, q: a.q, status: a.status, assignee: a.assignee, order: a.newest_first === true ? 'desc' : undefined }
    const page = (await call(s, { method: 'GET', path: `/tasks${query({ ...filters, limit: a.limit ?? 20, cursor: a.cursor })}` })).body
    const tasks = page.items.map((t: Record<string, unknown>) => compactTask(t, a.full === true))
    const more = page.next_cursor === null ? '' : ' More: pass next_cursor as cursor.'
    return ok(`${tasks.length} task(s).${more}`, { tasks, next_cursor: page.next_cursor })
  }))

  server.registerTool('wait_for_task', {
    description: 'Wait (up to timeout_ms, at most 60000) until a task is finished: in a terminal stage, or in the given stage, or dead-lettered or canceled. Answers at once if it already is; says finished: false with the task as it is when the time runs out (call again to keep waiting).',
    inputSchema: args({
      task_id: TaskId,
      timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000), v.description('How long to wait (default 30000).'))),
      stage: v.optional(v.pipe(Id, v.description('Also stop waiting when the task reaches this stage.'))),
    }),
    annotations: { readOnlyHint: true },
  }, (a) => answer(s.log, 'wait_for_task', async () => {
    const got = await call(s, { method: 'GET', path: `/tasks/${seg(a.task_id)}/wait${query({ timeout_ms: a.timeout_ms ?? 30_000, stage: a.stage })}` }, [200, 202])
    const finished = got.status === 200
    return ok(finished ? `Task ${a.task_id} is in stage ${got.body.stage}.` : `Task ${a.task_id} is still in stage ${got.body.stage}; call again to keep waiting.`, { finished, task: compactTask(got.body, false) })
  }))

  server.registerTool('get_task', {
    description: 'One task in full: its fields, stage and available transitions (their triggers finish it with complete_task), dependencies, its runs (attempts) and the recent events of its latest run, and whether you hold it.',
    inputSchema: args({ task_id: TaskId }),
    annotations: { readOnlyHint: true },
  }, (a) => answer(s.log, 'get_task', async () => {
    const detail = await taskDetail(s, a.task_id)
    const task = detail.task as Record<string, any>
    return ok(`Task ${task.id} "${task.title}": stage ${task.stage}, ${(detail.runs as unknown[]).length} run(s)${detail.held_by_you ? ', held by you' : ''}.`, detail)
  }))

  server.registerTool('create_task', {
    description: 'Add a task to a pipeline (it starts in the pipeline\'s initial stage and waits for an agent of that stage\'s role). Returns its id.',
    inputSchema: args({
      pipeline_id: v.pipe(Id, v.description('The pipeline id.')),
      title: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)),
      description: v.optional(v.string()),
      priority: v.optional(v.pipe(v.number(), v.integer(), v.description('Higher is claimed first (default 0).'))),
      metadata: v.optional(v.pipe(v.unknown(), v.description('Any JSON.'))),
      dependencies: v.optional(v.pipe(v.array(Id), v.description('Task ids that must reach a terminal stage first.'))),
      assigned_agent_id: v.optional(v.pipe(Id, v.description('Only this agent may claim it.'))),
      max_attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
    }),
  }, (a) => answer(s.log, 'create_task', async () => {
    const created = await call(s, { method: 'POST', path: '/tasks', body: {
      pipeline_id: a.pipeline_id, title: a.title, description: a.description ?? '', priority: a.priority, metadata: a.metadata,
      dependencies: a.dependencies, assigned_agent_id: a.assigned_agent_id,
      retry_policy: a.max_attempts === undefined ? undefined : { max_attempts: a.max_attempts },
    } })
    return ok(`Task ${created.body.id} created.`, { task_id: created.body.id })
  }))

  server.registerTool('store_put', {
    description: 'Keep a note, decision or document (any JSON value) under a namespace and key, replacing what was there; others find it with store_search.',
    inputSchema: args({ namespace: Namespace, key: Key, value: v.pipe(v.unknown(), v.description('Any JSON.')) }),
    annotations: { idempotentHint: true },
  }, (a) => answer(s.log, 'store_put', async () => {
    await call(s, { method: 'PUT', path: `/store/${seg(a.namespace)}/${seg(a.key)}`, body: { value: a.value ?? null } })
    return ok(`Stored ${a.namespace}/${a.key}.`, { namespace: a.namespace, key: a.key })
  }))

  server.registerTool('store_get', {
    description: 'Read the value kept under a namespace and key (not_found if there is none).',
    inputSchema: args({ namespace: Namespace, key: Key }),
    annotations: { readOnlyHint: true },
  }, (a) => answer(s.log, 'store_get', async () => {
    const entry = (await call(s, { method: 'GET', path: `/store/${seg(a.namespace)}/${seg(a.key)}` })).body
    return ok(`${a.namespace}/${a.key}: ${JSON.stringify(entry.value).slice(0, 200)}`, entry)
  }))

  server.registerTool('store_search', {
    description: 'Find kept values by their words: every term must match (literal words, no operators), best first, each with a snippet.',
    inputSchema: args({
      query: v.pipe(v.string(), v.minLength(1), v.description('Words to find.')),
      namespace: v.optional(Namespace),
      limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50), v.description('At most this many (default 10).'))),
    }),
    annotations: { readOnlyHint: true },
  }, (a) => answer(s.log, 'store_search', async () => {
    const hits = (await call(s, { method: 'GET', path: `/store/search${query({ q: a.query, namespace: a.namespace, limit: a.limit ?? 10 })}` })).body
    return ok(`${hits.length} match(es)${hits.length > 0 ? `: ${hits.map((h: any) => `${h.namespace}/${h.key}`).join(', ')}` : ''}.`, { hits })
  }))
}
