// The MCP server of one client: Docket's tools, the docket://tasks/{id} resource and the work_loop prompt.
// Built per HTTP request (/mcp is stateless) or once per stdio connection, over a session that says how the
// tools reach Docket and where the lease tokens are kept.
import * as v from 'valibot'
import { toStandardJsonSchema } from '@valibot/to-json-schema'
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/server'
import { registerLeaseTools } from './lease-tools.ts'
import { registerTaskTools, taskDetail } from './task-tools.ts'
import { registerAdminTools } from './admin-tools.ts'
import { ToolError } from './results.ts'
import type { McpSession } from './session.ts'
import { VERSION } from '../version.ts'

const INSTRUCTIONS = 'Docket hands out work as tasks with leases. Loop: claim_task → append_event as you go (heartbeat on long work) → ' +
  'complete_task with one of the task\'s triggers, fail_task if the attempt failed, or release_task to hand it back. The server keeps your lease; ' +
  'tools take the task id. On lease_expired, lease_lost or lease_revoked stop working on that task and claim another. The prompt work_loop says more.'

export function buildMcpServer(s: McpSession): McpServer {
  const server = new McpServer({ name: 'docket', version: VERSION }, { instructions: INSTRUCTIONS })
  registerLeaseTools(server, s)
  registerTaskTools(server, s)
  if (s.toolsets.has('admin')) registerAdminTools(server, s)

  server.registerResource('task', new ResourceTemplate('docket://tasks/{id}', { list: undefined }), {
    title: 'A Docket task',
    description: 'A task with its runs and the recent events of its latest run (JSON).',
    mimeType: 'application/json',
  }, async (uri, variables) => {
    const id = decodeURIComponent(String(variables.id))
    try {
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(await taskDetail(s, id)) }] }
    } catch (err) {
      if (err instanceof ToolError) throw new Error(`${err.code}: ${err.message}`)
      throw err
    }
  })

  server.registerPrompt('work_loop', {
    title: 'Work Docket tasks',
    description: 'How to work tasks with Docket\'s tools, in order.',
    argsSchema: toStandardJsonSchema(v.object({ role: v.optional(v.pipe(v.string(), v.description('Your agent role.'))) })),
  }, (a) => ({
    messages: [{ role: 'user', content: { type: 'text', text: workLoop(a.role ?? s.defaultRole) } }],
  }))
  return server
}

function workLoop(role: string | null): string {
  const forRole = role === null ? 'for your role (pass role:)' : `for role ${role}`
  return [
    `You work tasks from Docket ${forRole}. Repeat:`,
    '1. claim_task (wait_s: 20 to wait for work). task: null means nothing is waiting: claim again, or stop if you are done.',
    '2. Read the task (title, description, metadata); get_task shows its history if it was tried before.',
    '3. Do the work. Record steps and findings with append_event; attach outputs with add_artifact; keep notes for later with store_put.',
    '4. On work longer than a minute or two, call heartbeat now and then (every other tool on the task also extends the lease).',
    '5. Finish: complete_task with one of the triggers claim_task listed; or fail_task with the error if the attempt failed (it will be retried);',
    '   or release_task if the task is not for you or you must stop (no failure is counted).',
    'If a tool answers lease_expired, lease_lost or lease_revoked, stop working on that task at once (someone else may get it) and go back to step 1.',
    'You never see a lease token: the server keeps it. my_leases tells you what you hold.',
  ].join('\n')
}
