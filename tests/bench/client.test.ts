import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createClient } from '../../bench/lib/client.ts'

const test = suite('bench client')

test('the bench client refuses any address but 127.0.0.1', () => {
  for (const url of ['http://localhost:7700', 'http://10.0.0.1:7700', 'http://example.com']) {
    assert.throws(() => createClient(url, 1), /only talks to 127\.0\.0\.1/)
  }
})

test('the bench client accepts a 127.0.0.1 address', async () => {
  const client = createClient('http://127.0.0.1:9', 1)
  assert.is(client.inFlight(), 0)
  await client.close()
})

test.run()
