// SQLite only: a full database made with PRAGMA max_page_count; PostgreSQL has no such limit to set per database.
// SQLITE_FULL, made here with max_page_count (tests/process/full-disk.test.ts fills a real disk): 507
// storage_full for every request whose batch it rolled back, nothing half-written, recovery once there is room.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createTask, expectError, expectStatus, singleStage, unique } from '../helpers/fixtures.ts'
import { assertConsistent } from '../helpers/invariants.ts'

type Ctx = { s: TestServer }
const test = suite<Ctx>('storage full', {} as Ctx)
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const BIG = { text: 'y'.repeat(200_000) }

test('a write that finds no room answers 507 storage_full; its batch neighbours too, and none of them is kept', async ({ s }) => {
  const { pipelineId } = await singleStage(s)
  const pages = s.db.pragma('page_count', { simple: true }) as number
  s.db.pragma(`max_page_count = ${pages + 8}`)
  const title = unique('neighbour')
  try {
    // Same turn, same batch: the small create runs first, then the big put fills the database.
    const [create, put] = await Promise.all([
      s.request('POST', '/tasks', { pipeline_id: pipelineId, title, description: '' }),
      s.request('PUT', '/store/full/big', { value: BIG }),
    ])
    expectError(put, 507, 'storage_full')
    assert.match(put.body.error.message, /disk .* full/)
    assert.ok([201, 507].includes(create.status), create.text)
    const kept = s.db.prepare('SELECT count(*) FROM tasks WHERE title = ?').pluck().get(title)
    assert.is(kept, create.status === 201 ? 1 : 0, 'only acknowledged work is kept')
    expectError(await s.request('GET', '/store/full/big'), 404, 'not_found')
    expectStatus(await s.request('GET', '/health'), 200)
  } finally {
    s.db.pragma('max_page_count = 4294967294')
  }
  expectStatus(await s.request('PUT', '/store/full/big', { value: BIG }), 204)
  await createTask(s, pipelineId)
  await assertConsistent(s)
})

test.run()
