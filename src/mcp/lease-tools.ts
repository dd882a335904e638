// The tools of an agent's work loop: claim, report, finish. Tools take a task id; the lease token stays in
// the lease book, and every write on a held task also extends its lease.
import * as v from 'valibot'
import { createHash } from 'node:crypto'
import type { McpServer } from '@modelcontextprotocol/server'
import { answer, ok, ToolError } from './results.ts'
import { args, call, extend, heldLease, Id, iso, onLease, TaskId, type McpSession } from './session.ts'

const seg = encodeURIComponent
const Seconds = (max: number, what: string) => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(max), v.description(what))
const AgentId = v.pipe(Id, v.description('Your agent id, if this server was not configured with one (X-Docket-Agent header, --agent). Use the same id on every call.'))

/** How long a claim may wait: well below the MCP client's 60 s request timeout. */
const MAX_WAIT_S = 25

export function registerLeaseTools(server: McpServer, s: McpSession): void {
  server.registerTool('claim_task', {
    description: 'Take the next task waiting for your role, with a lease on it (only you may work on it while the lease lasts). ' +
      'Call it when you are ready for work. Returns the task (title, description, metadata, stage) and the triggers that complete it, or task: null when nothing is waiting: ' +
      `then call again later, or pass wait_s (up to ${MAX_WAIT_S}) to wait for one. Then: append_event as you go, heartbeat on long work, and finish with complete_task, fail_task or release_task.`,
    inputSchema: args({
      role: v.optional(v.pipe(Id, v.description('The agent role whose stages you work (the server may have a default).'))),
      pipeline: v.optional(v.pipe(Id, v.description('Only tasks of this pipeline id.'))),
      wait_s: v.optional(Seconds(MAX_WAIT_S, 'Seconds to wait for a task when none is waiting (default 0).')),
      lease_ttl_s: v.optional(v.pipe(v.number(), v.integer(), v.minValue(10), v.maxValue(86_400), v.description('How long the lease lasts without a heartbeat (default 300).'))),
      agent_id: v.optional(AgentId),
    }),
    annotations: { destructiveHint: false, idempotentHint: false },
  }, (a) => answer(s.log, 'claim_task', async () => {
    const agentId = s.agentId ?? a.agent_id
    if (agentId === undefined) throw new ToolError('agent_required', 'This server knows no agent id for you.', 'Pass agent_id (a stable name for yourself) and use it on every call.')
    const role = a.role ?? s.defaultRole
    if (role === null) throw new ToolError('role_required', 'No role given and this server has no default role.', 'Pass role: the agent role of the stages you work.')
    const claimed = await call(s, { method: 'POST', path: '/leases/claim', body: {
      agent_id: agentId, agent_role: role, pipeline_id: a.pipeline ?? null,
      wait_ms: (a.wait_s ?? 0) * 1000, lease_ttl_ms: (a.lease_ttl_s ?? 300) * 1000,
    } })
    if (claimed.status === 204) {
      return ok(`No task is waiting for role ${role}. Call claim_task again later, or with wait_s to wait for one.`, { task: null })
    }
    const { task, run, expires_at_ms: expiresAtMs } = claimed.body
    s.book.hold({ agentId, taskId: task.id, runId: run.id, token: claimed.body.lease_token, expiresAtMs })
    const detail = (await call(s, { method: 'GET', path: `/tasks/${seg(task.id)}` })).body
    const triggers = detail.available_transitions.map((t: { trigger: string }) => t.trigger)
    return ok(`Claimed task ${task.id} "${task.title}" (stage ${task.stage}, attempt ${run.attempt}); lease until ${iso(expiresAtMs)}. ` +
      `Finish with complete_task (trigger: ${triggers.join(' | ') || 'none'}), fail_task or release_task.`, {
      task: compactTask(task, true), run_id: run.id, attempt: run.attempt, lease_expires_at_ms: expiresAtMs,
      available_transitions: detail.available_transitions,
    })
  }))

  server.registerTool('heartbeat', {
    description: 'Extend your lease on a task you are still working on; call it at least every few minutes on long work (every other tool on the task extends it too). ' +
      'Optionally records a progress note. On lease_expired or lease_lost, stop working on the task.',
    inputSchema: args({ task_id: TaskId, progress: v.optional(v.pipe(v.string(), v.maxLength(4096), v.description('A short progress note, recorded as a `progress` event.'))) }),
  }, (a) => answer(s.log, 'heartbeat', async () => {
    const lease = heldLease(s, a.task_id)
    if (a.progress !== undefined) {
      await onLease(s, lease, { method: 'POST', path: `/runs/${seg(lease.runId)}/events`, body: { kind: 'progress', data: { note: a.progress } } })
    }
    const expiresAtMs = await extend(s, lease)
    return ok(`Lease on task ${a.task_id} extended until ${iso(expiresAtMs)}.`, { task_id: a.task_id, lease_expires_at_ms: expiresAtMs })
  }))

  server.registerTool('append_event', {
    description: 'Record what happened while you work on a task you hold (a step, a finding, a decision), as an event on its run; also extends your lease. ' +
      'Returns the event id.',
    inputSchema: args({
      task_id: TaskId,
      kind: v.pipe(v.string(), v.minLength(1), v.maxLength(128), v.description('A short kind, e.g. "step", "finding", "tool_call".')),
      data: v.optional(v.pipe(v.unknown(), v.description('Any JSON.'))),
    }),
  }, (a) => answer(s.log, 'append_event', async () => {
    const lease = heldLease(s, a.task_id)
    const appended = await onLease(s, lease, { method: 'POST', path: `/runs/${seg(lease.runId)}/events`, body: { kind: a.kind, data: a.data } })
    const expiresAtMs = await extend(s, lease)
    return ok(`Event ${appended.body.id} recorded on task ${a.task_id}.`, { task_id: a.task_id, event_id: appended.body.id, lease_expires_at_ms: expiresAtMs })
  }))

  server.registerTool('complete_task', {
    description: 'Finish your work on a task you hold and move it on along its pipeline with a trigger (claim_task and get_task list the available ones). ' +
      'Ends your lease. On invalid_transition, call get_task and use an available trigger.',
    inputSchema: args({
      task_id: TaskId,
      trigger: v.pipe(Id, v.description('The transition to take, e.g. "complete".')),
      usage: v.optional(v.pipe(v.unknown(), v.description('Any JSON, e.g. {"tokens": 1200}.'))),
      output: v.optional(v.pipe(v.string(), v.description('A note for whoever takes the next stage, kept with the transition.'))),
    }),
  }, (a) => answer(s.log, 'complete_task', async () => {
    const lease = heldLease(s, a.task_id)
    const done = await onLease(s, lease, { method: 'POST', path: `/runs/${seg(lease.runId)}/transition`, body: {
      trigger: a.trigger, usage: a.usage, instructions: a.output ?? null,
    } })
    s.book.drop(lease)
    return ok(`Task ${a.task_id} moved from ${done.body.previous_stage} to ${done.body.new_stage}. Call claim_task for more work.`, { task_id: a.task_id, ...done.body })
  }))

  server.registerTool('fail_task', {
    description: 'Give up on a task you hold because the attempt failed; the failure counts toward its retry limit (Docket retries it later, or dead-letters it). ' +
      'Ends your lease. To hand back a task without counting a failure, use release_task.',
    inputSchema: args({
      task_id: TaskId,
      error: v.pipe(v.string(), v.minLength(1), v.description('What went wrong, for whoever looks next.')),
      retry_delay_s: v.optional(Seconds(86_400, 'Retry no sooner than this (default: the task\'s retry delay).')),
      usage: v.optional(v.unknown()),
    }),
  }, (a) => answer(s.log, 'fail_task', async () => {
    const lease = heldLease(s, a.task_id)
    await onLease(s, lease, { method: 'POST', path: `/runs/${seg(lease.runId)}/fail`, body: {
      error: a.error, usage: a.usage, retry_delay_ms: a.retry_delay_s === undefined ? null : a.retry_delay_s * 1000,
    } })
    s.book.drop(lease)
    return ok(`Task ${a.task_id} failed; Docket retries it later or dead-letters it. Call claim_task for more work.`, { task_id: a.task_id, status: 'failed' })
  }))

  server.registerTool('release_task', {
    description: 'Hand a task you hold back without counting a failure (it is not for you, or you must stop); another agent can claim it at once, or after delay_s. Ends your lease.',
    inputSchema: args({
      task_id: TaskId,
      reason: v.pipe(v.string(), v.maxLength(4096), v.description('Why, for whoever looks next.')),
      delay_s: v.optional(Seconds(86_400, 'Keep the task unclaimable this long (default 0).')),
    }),
  }, (a) => answer(s.log, 'release_task', async () => {
    const lease = heldLease(s, a.task_id)
    const released = await onLease(s, lease, { method: 'POST', path: `/leases/${seg(lease.runId)}/release`, body: { reason: a.reason, delay_ms: (a.delay_s ?? 0) * 1000 } })
    s.book.drop(lease)
    return ok(`Task ${a.task_id} released; claimable again from ${iso(released.body.next_eligible_at_ms)}.`, { task_id: a.task_id, ...released.body })
  }))

  server.registerTool('add_artifact', {
    description: 'Attach an output to a task: a uri (file, URL, commit) or a text, with a kind and metadata. On a task you hold it is tied to your run and extends your lease. Returns the artifact id.',
    inputSchema: args({
      task_id: TaskId,
      kind: v.pipe(Id, v.description('e.g. "report", "patch", "log", "url".')),
      uri: v.optional(v.pipe(v.string(), v.minLength(1), v.description('Where the output is. Give uri or text, not both.'))),
      text: v.optional(v.pipe(v.string(), v.description('The output itself (kept as a data: URI).'))),
      metadata: v.optional(v.pipe(v.unknown(), v.description('Any JSON.'))),
    }),
  }, (a) => answer(s.log, 'add_artifact', async () => {
    if ((a.uri === undefined) === (a.text === undefined)) {
      throw new ToolError('validation_failed', 'Give exactly one of uri and text.', 'Call again with uri or with text.')
    }
    const lease = s.book.find(a.task_id, s.agentId)
    const text = a.text === undefined ? null : Buffer.from(a.text)
    const created = await call(s, { method: 'POST', path: '/artifacts', body: {
      task_id: a.task_id, run_id: lease?.runId ?? null, kind: a.kind, meta: a.metadata,
      ...(text === null ? { uri: a.uri } : {
        uri: `data:text/plain;charset=utf-8,${encodeURIComponent(a.text!)}`, size_bytes: text.length, sha256: createHash('sha256').update(text).digest('hex'),
      }),
    } })
    const expiresAtMs = lease === undefined ? null : await extend(s, lease)
    return ok(`Artifact ${created.body.id} (${a.kind}) added to task ${a.task_id}.`, { task_id: a.task_id, artifact_id: created.body.id, lease_expires_at_ms: expiresAtMs })
  }))

  server.registerTool('my_leases', {
    description: 'The tasks you hold a lease on through this server, each checked with Docket now, and those whose lease ended since (completed, expired, canceled, or the lease map was lost). ' +
      'Call it after a restart or when unsure what you are working on; work only on the tasks listed under leases.',
    inputSchema: args({ agent_id: v.optional(AgentId) }),
    annotations: { readOnlyHint: true },
  }, (a) => answer(s.log, 'my_leases', async () => {
    const agentId = s.agentId ?? a.agent_id ?? null
    const held = []
    const ended = []
    for (const lease of s.book.heldBy(agentId)) {
      const state = (await call(s, { method: 'GET', path: `/tasks/${seg(lease.taskId)}/run-state` }, [200, 404])).body
      if (state?.run_id === lease.runId && state.lease_expires_at_ms !== null && state.status === 'running') {
        s.book.extend(lease, state.lease_expires_at_ms)
        held.push({ task_id: lease.taskId, run_id: lease.runId, lease_expires_at_ms: state.lease_expires_at_ms })
      } else {
        s.book.drop(lease)
        ended.push({ task_id: lease.taskId, run_id: lease.runId, status: state?.run_id === lease.runId ? state.status : 'gone' })
      }
    }
    const text = held.length === 0 ? 'You hold no lease here. Call claim_task for work.' : `You hold ${held.length} lease(s): ${held.map((l) => l.task_id).join(', ')}.`
    return ok(text, { agent_id: agentId, leases: held, ended })
  }))
}

/** A task as tools show it: the fields an agent decides by (`full` adds description and metadata). */
export function compactTask(t: Record<string, any>, full: boolean): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: t.id, pipeline_id: t.pipeline_id, stage: t.stage, title: t.title, priority: t.priority,
    dead_letter_reason: t.dead_letter_reason, next_eligible_at_ms: t.next_eligible_at_ms,
  }
  return full ? { ...row, description: t.description, metadata: t.metadata, task_version: t.task_version, max_attempts: t.max_attempts } : row
}
