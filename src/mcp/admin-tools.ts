// Operator tools, only with the admin toolset (--toolsets agent,admin, DOCKET_MCP_TOOLSETS).
import * as v from 'valibot'
import type { McpServer } from '@modelcontextprotocol/server'
import { answer, ok } from './results.ts'
import { args, call, Id, TaskId, type McpSession } from './session.ts'

const seg = encodeURIComponent
const PipelineId = v.pipe(Id, v.description('The pipeline id.'))

export function registerAdminTools(server: McpServer, s: McpSession): void {
  server.registerTool('requeue_task', {
    description: 'Operator: bring a dead-lettered or canceled task back into play with its failure count reset, optionally in another stage. Fails with conflict while it is leased.',
    inputSchema: args({ task_id: TaskId, stage: v.optional(v.pipe(Id, v.description('Put it in this stage instead.'))) }),
  }, (a) => answer(s.log, 'requeue_task', async () => {
    const task = (await call(s, { method: 'POST', path: `/tasks/${seg(a.task_id)}/requeue`, body: { stage: a.stage ?? null } })).body
    return ok(`Task ${task.id} requeued in stage ${task.stage}.`, { task })
  }))

  server.registerTool('cancel_task', {
    description: 'Operator: take a task out of play for good; a lease on it is revoked (its agent gets lease_revoked).',
    inputSchema: args({ task_id: TaskId, reason: v.optional(v.string()) }),
    annotations: { destructiveHint: true },
  }, (a) => answer(s.log, 'cancel_task', async () => {
    const task = (await call(s, { method: 'POST', path: `/tasks/${seg(a.task_id)}/cancel`, body: { reason: a.reason ?? null } })).body
    return ok(`Task ${task.id} canceled.`, { task })
  }))

  server.registerTool('signal_task', {
    description: 'Operator: move a task out of a human gate (a stage no agent claims from) along the transition of this trigger, for instance after a person approved it. data is kept in the task\'s signaled event.',
    inputSchema: args({
      task_id: TaskId,
      trigger: v.pipe(Id, v.description('The trigger of a transition out of the gate, e.g. "approve".')),
      data: v.optional(v.pipe(v.unknown(), v.description('Anything to record with the signal (who approved, why).'))),
      expected_stage: v.optional(v.pipe(Id, v.description('Refuse (expected_stage_mismatch) unless the task is still in this stage.'))),
    }),
  }, (a) => answer(s.log, 'signal_task', async () => {
    const moved = (await call(s, { method: 'POST', path: `/tasks/${seg(a.task_id)}/signal`, body: { trigger: a.trigger, data: a.data ?? null, expected_stage: a.expected_stage ?? null } })).body
    return ok(`Task ${a.task_id} moved from ${moved.previous_stage} to ${moved.new_stage}.`, moved)
  }))

  for (const [name, action, paused] of [['pause_pipeline', 'pause', true], ['resume_pipeline', 'resume', false]] as const) {
    server.registerTool(name, {
      description: paused ? 'Operator: stop agents from claiming the tasks of a pipeline (leases already held go on).' : 'Operator: let agents claim the tasks of a paused pipeline again.',
      inputSchema: args({ pipeline_id: PipelineId }),
      annotations: { idempotentHint: true },
    }, (a) => answer(s.log, name, async () => {
      const pipeline = (await call(s, { method: 'POST', path: `/pipelines/${seg(a.pipeline_id)}/${action}` })).body
      return ok(`Pipeline ${pipeline.id} ${paused ? 'paused' : 'resumed'}.`, { pipeline_id: pipeline.id, paused: pipeline.paused })
    }))
  }
}
