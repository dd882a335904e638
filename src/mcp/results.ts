// What a tool answers: a one-line text for the model and the same facts as structuredContent; an error is
// `isError: true` with Docket's error code and what the model should do next.
import type { CallToolResult } from '@modelcontextprotocol/server'
import type { ApiAnswer } from './api.ts'
import type { Log } from '../log.ts'

export class ToolError extends Error {
  readonly code: string
  readonly next: string
  readonly details: unknown

  constructor(code: string, message: string, next: string, details?: unknown) {
    super(message)
    this.code = code
    this.next = next
    this.details = details
  }
}

export function ok(text: string, value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: value }
}

function failure(err: ToolError): CallToolResult {
  const error = { code: err.code, message: err.message, next_step: err.next, ...(err.details === undefined ? {} : { details: err.details }) }
  return { isError: true, content: [{ type: 'text', text: `${err.code}: ${err.message} Next: ${err.next}` }], structuredContent: { error } }
}

/** Runs a tool body; every failure becomes a tool error the model can act on. */
export async function answer(log: Log, tool: string, body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body()
  } catch (err) {
    if (err instanceof ToolError) return failure(err)
    if (err instanceof TypeError && err.message === 'fetch failed') {
      return failure(new ToolError('docket_unreachable', 'Docket did not answer.', 'Wait a little and call again; if it persists, tell the operator that Docket is down.'))
    }
    log.error(`MCP tool ${tool} failed`, err)
    return failure(new ToolError('internal_error', 'The tool failed unexpectedly.', 'Call again once; if it fails again, tell the operator.'))
  }
}

export const LEASE_LOST_NEXT = 'Stop working on this task: your result cannot be recorded. Call my_leases to see what you hold, and claim_task for new work.'

/** Docket's error answer as a tool error, with advice by code. `onLease`: it answered a lease route. */
export function apiError(answer: ApiAnswer, onLease: boolean): ToolError {
  const error = answer.body?.error ?? { code: `http_${answer.status}`, message: `Docket answered ${answer.status}` }
  const { code, message, details } = error as { code: string; message: string; details?: unknown }
  if (onLease) {
    if (answer.status === 410) return new ToolError('lease_expired', `Your lease ran out (${message}); Docket will give the task to another attempt.`, LEASE_LOST_NEXT)
    if (answer.status === 409 && code === 'conflict') return new ToolError('lease_revoked', `${message}: an operator canceled the task.`, LEASE_LOST_NEXT)
    if (answer.status === 404 || answer.status === 401) return new ToolError('lease_lost', `Docket no longer honours this lease (${message}).`, LEASE_LOST_NEXT)
  }
  return new ToolError(code, message, adviceFor(code, answer.status), details)
}

function adviceFor(code: string, status: number): string {
  switch (code) {
    case 'validation_failed':
    case 'invalid_json':
    case 'invalid_request':
      return 'Fix the arguments named in details and call again.'
    case 'invalid_transition':
      return 'Call get_task and use one of the triggers in its available_transitions.'
    case 'expected_stage_mismatch':
    case 'task_version_mismatch':
      return 'The task changed meanwhile: call get_task and decide again.'
    case 'not_found':
    case 'task_not_found':
    case 'pipeline_not_found':
      return 'Check the id (list_tasks or get_task show existing ones).'
    case 'unauthorized':
      return 'This MCP server is not allowed to call Docket (API token missing or wrong): tell the operator.'
    case 'storage_busy':
      return 'Docket is busy: wait a few seconds and call again.'
    case 'reserved_event_kind':
      return 'Choose another event kind; Docket writes that one itself.'
    default:
      return status >= 500 ? 'Call again later; if it persists, tell the operator.' : 'Read the message, fix the call and try again.'
  }
}
