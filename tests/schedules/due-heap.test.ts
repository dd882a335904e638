import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createDueHeap } from '../../src/schedules/due-heap.ts'

const test = suite('schedule due heap')

test('takes what is due in time order; a schedule set again is due only at its latest time', () => {
  const heap = createDueHeap()
  heap.set('a', 30)
  heap.set('b', 10)
  heap.set('c', 20)
  heap.set('b', 40)
  heap.set('c', null)
  assert.is(heap.peek(), 30)
  assert.equal(heap.takeDue(35), ['a'])
  assert.equal(heap.takeDue(100), ['b'])
  assert.is(heap.peek(), null)
})

test('a name set again and again far ahead does not pile up', () => {
  const heap = createDueHeap()
  for (let i = 0; i < 100; i++) heap.set(`n${i}`, 1_000_000 + i)
  for (let round = 0; round < 1000; round++) for (let i = 0; i < 100; i++) heap.set(`n${i}`, 2_000_000 + round * 100 + i)
  assert.ok(heap.held() <= 2 * 100 + 1024 + 1, `${heap.held()} entries held for 100 names`)
  const due = heap.takeDue(Number.MAX_SAFE_INTEGER)
  assert.equal(due, Array.from({ length: 100 }, (_, i) => `n${i}`))
  assert.is(heap.held(), 0)
})

test.run()
