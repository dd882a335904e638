import * as assert from 'uvu/assert'
import type { Res, TestServer } from './server.ts'

let counter = 0
/** A fresh name per call, so tests never depend on each other's data. */
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`

export function expectStatus(res: Res, status: number): Res {
  if (res.status !== status) assert.unreachable(`expected ${status}, got ${res.status}: ${res.text}`)
  return res
}

/** Asserts a valid error envelope with the given status and code. */
export function expectError(res: Res, status: number, code: string): Res {
  expectStatus(res, status)
  assert.type(res.body?.error?.message, 'string', `no error envelope: ${res.text}`)
  assert.is(res.body.error.code, code, res.text)
  return res
}

/** research (role `r`) → review (role `v`) → done; review can send back with `reject`. */
export function linearDefinition(roles: { work: string; review: string }) {
  return {
    initial: 'work',
    states: {
      work: { agent_role: roles.work },
      review: { agent_role: roles.review },
      done: { terminal: true },
    },
    transitions: [
      { from: 'work', to: 'review', trigger: 'complete' },
      { from: 'review', to: 'done', trigger: 'approve' },
      { from: 'review', to: 'work', trigger: 'reject', required_gates: ['tests'] },
    ],
  }
}

export async function createPipeline(s: TestServer, definition: unknown = linearDefinition({ work: unique('worker'), review: unique('reviewer') })): Promise<string> {
  return expectStatus(await s.request('POST', '/pipelines', { name: unique('pipeline'), definition }), 201).body.id
}

export async function createTask(s: TestServer, pipelineId: string, fields: Record<string, unknown> = {}): Promise<string> {
  const res = await s.request('POST', '/tasks', { pipeline_id: pipelineId, title: 't', description: 'd', ...fields })
  return expectStatus(res, 201).body.id
}

export type Lease = { task: any; run: any; lease_id: string; lease_token: string; expires_at_ms: number }

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Claims for a role; returns the lease, or null on 204. */
export async function claim(s: TestServer, role: string, fields: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<Lease | null> {
  const res = await s.request('POST', '/leases/claim', { agent_id: unique('agent'), agent_role: role, ...fields }, headers)
  if (res.status === 204) return null
  return expectStatus(res, 200).body
}

/** A pipeline work(role) → done with the given retry policy on its tasks; returns ids and the role. */
export async function singleStage(s: TestServer): Promise<{ pipelineId: string; role: string }> {
  const role = unique('role')
  const pipelineId = await createPipeline(s, {
    initial: 'work',
    states: { work: { agent_role: role }, done: { terminal: true }, parked: { terminal: true } },
    transitions: [{ from: 'work', to: 'done', trigger: 'complete' }, { from: 'work', to: 'work', trigger: 'again' }],
  })
  return { pipelineId, role }
}
