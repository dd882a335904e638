import * as assert from 'uvu/assert'
import type { TestServer } from './server.ts'
import { expectStatus } from './fixtures.ts'

/** Walks GET /tasks page by page with the given filters; returns every item seen, in order. */
export async function walkTasks(s: TestServer, query: Record<string, string>, limit: number): Promise<Array<Record<string, any>>> {
  const items: Array<Record<string, any>> = []
  let cursor: string | null = null
  for (let pages = 0; ; pages++) {
    assert.ok(pages <= 100_000, 'pagination does not end')
    const params = new URLSearchParams({ ...query, limit: String(limit), ...(cursor === null ? {} : { cursor }) })
    const page = expectStatus(await s.request('GET', `/tasks?${params}`), 200).body
    assert.ok(page.items.length <= limit, `page of ${page.items.length} > limit ${limit}`)
    items.push(...page.items)
    cursor = page.next_cursor
    if (cursor === null) return items
    assert.type(cursor, 'string')
  }
}

/** Ids of the tasks of one pipeline, in list order. */
export async function taskIdsOf(s: TestServer, pipelineId: string): Promise<string[]> {
  return (await walkTasks(s, { pipeline_id: pipelineId }, 1000)).map((t) => t.id)
}

/** A task body for POST /tasks or /tasks/bulk. */
export function taskBody(pipelineId: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { pipeline_id: pipelineId, title: 't', description: 'd', ...fields }
}
