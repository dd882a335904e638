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
