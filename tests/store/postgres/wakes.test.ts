import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { freshDatabase } from '../../helpers/postgres.ts'
import { createPool } from '../../../src/store/postgres/connect.ts'
import { startListener, type Listener } from '../../../src/store/postgres/listen.ts'
import { WAKE_CHANNEL } from '../../../src/store/postgres/context.ts'
import { createWaker } from '../../../src/store/postgres/wakes.ts'
import { waitFor } from './wait.ts'

type Ctx = { pool: pg.Pool; listener: Listener; heard: Array<string | null> }
const test = suite<Ctx>('postgres wake-ups', {} as Ctx)

test.before(async (ctx) => {
  const url = await freshDatabase()
  ctx.pool = createPool(url, { size: 2 })
  ctx.listener = await startListener(url)
  ctx.heard = []
  await ctx.listener.onNotify(WAKE_CHANNEL, (p) => ctx.heard.push(p))
})
test.after(async (ctx) => {
  await ctx.listener.close()
  await ctx.pool.end()
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

test('the first wake-up goes out at once; those within the spacing go out together, each payload once', async ({ pool, heard }) => {
  heard.length = 0
  const errors: Error[] = []
  const waker = createWaker(pool, (err) => errors.push(err), 200)
  waker.send(['5000'])
  await waitFor(() => heard.length === 1, 150, `heard ${JSON.stringify(heard)}`) // before the spacing ends
  waker.send([''])
  waker.send(['', '7000'])
  waker.send(['5000'])
  await sleep(100)
  assert.equal(heard, ['5000'])
  await waitFor(() => heard.length === 4, 2_000, `heard ${JSON.stringify(heard)}`)
  assert.equal(heard.slice(1).sort(), ['', '5000', '7000'])
  await sleep(250)
  assert.is(heard.length, 4)
  // Quiet for longer than the spacing: at once again.
  waker.send([''])
  await waitFor(() => heard.length === 5, 150, `heard ${JSON.stringify(heard)}`)
  await waker.close()
  assert.equal(errors, [])
})

test('close sends what is pending', async ({ pool, heard }) => {
  heard.length = 0
  const waker = createWaker(pool, () => {}, 10_000)
  waker.send(['1'])
  waker.send(['2'])
  await waker.close()
  await waitFor(() => heard.length === 2, 2_000, `heard ${JSON.stringify(heard)}`)
  assert.equal(heard, ['1', '2'])
})

test('nothing to send, nothing sent', async ({ pool, heard }) => {
  heard.length = 0
  const waker = createWaker(pool, () => {}, 10)
  waker.send([])
  await sleep(50)
  await waker.close()
  assert.equal(heard, [])
})

test.run()
