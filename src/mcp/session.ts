// What the tools of one MCP client see: the API, the lease book, who the agent is, which toolsets are on.
import * as v from 'valibot'
import { toStandardJsonSchema } from '@valibot/to-json-schema'
import type { DocketApi, ApiAnswer, ApiCall } from './api.ts'
import type { HeldLease, LeaseBook } from './lease-book.ts'
import type { Log } from '../log.ts'
import { apiError, ToolError, LEASE_LOST_NEXT } from './results.ts'

export const TOOLSETS = ['agent', 'admin'] as const
export type Toolset = (typeof TOOLSETS)[number]

export type McpSession = {
  api: DocketApi
  book: LeaseBook
  /** The agent this client was configured as (X-Docket-Agent over HTTP, --agent over stdio), or null. */
  agentId: string | null
  /** The role claim_task uses when it is given none (--role), or null. */
  defaultRole: string | null
  toolsets: ReadonlySet<Toolset>
  log: Log
}

/** Parses `agent,admin` (DOCKET_MCP_TOOLSETS, --toolsets); the agent toolset is always on. */
export function parseToolsets(text: string | undefined): Set<Toolset> {
  const sets = new Set<Toolset>(['agent'])
  for (const name of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(TOOLSETS as readonly string[]).includes(name)) throw new Error(`unknown toolset ${name} (known: ${TOOLSETS.join(', ')})`)
    sets.add(name as Toolset)
  }
  return sets
}

/** A tool's input: a strict valibot object (unknown arguments are an error), advertised as JSON Schema. */
export const args = <E extends v.ObjectEntries>(entries: E) => toStandardJsonSchema(v.strictObject(entries))

export const Id = v.pipe(v.string(), v.minLength(1), v.maxLength(512))
export const TaskId = v.pipe(Id, v.description('The task id (from claim_task, list_tasks or get_task).'))

/** Calls the API and fails with Docket's error unless it answered one of `ok`. */
export async function call(s: McpSession, req: ApiCall, ok: number[] = [200, 201, 204]): Promise<ApiAnswer> {
  const answer = await s.api(req)
  if (!ok.includes(answer.status)) throw apiError(answer, false)
  return answer
}

/** The lease this client holds on a task, or `lease_lost`. */
export function heldLease(s: McpSession, taskId: string): HeldLease {
  const lease = s.book.find(taskId, s.agentId)
  if (lease === undefined) {
    throw new ToolError('lease_lost', `You hold no lease on task ${taskId} here (never claimed through this server, already ended, or its lease map was lost on a restart).`, LEASE_LOST_NEXT)
  }
  return lease
}

/** A lease route with the held token; an answer that says the lease is gone forgets it. */
export async function onLease(s: McpSession, lease: HeldLease, req: ApiCall): Promise<ApiAnswer> {
  const answer = await s.api({ ...req, lease: lease.token })
  if (answer.status < 400) return answer
  // Gone for good: an unknown or ended lease, another token (a replayed claim), an expiry, a cancel.
  const isGone = answer.status === 401 || answer.status === 404 || answer.status === 410 || (answer.status === 409 && answer.body?.error?.code === 'conflict')
  if (isGone) s.book.drop(lease)
  throw apiError(answer, true)
}

/** Heartbeats a held lease (every write on a held task does: agents forget to); returns the new expiry. */
export async function extend(s: McpSession, lease: HeldLease): Promise<number> {
  const answer = await onLease(s, lease, { method: 'POST', path: `/leases/${encodeURIComponent(lease.runId)}/heartbeat` })
  s.book.extend(lease, answer.body.expires_at_ms)
  return answer.body.expires_at_ms
}

export const iso = (ms: number) => new Date(ms).toISOString()
