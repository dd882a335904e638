import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer } from '../helpers/server.ts'
import { expectError, expectStatus } from '../helpers/fixtures.ts'
import { parseScrape } from '../helpers/prometheus.ts'

const test = suite('metrics access')
const TOKEN = 'metrics-test-token'

test('with an API token, /metrics needs it', async () => {
  const s = await startServer({ token: TOKEN })
  try {
    expectError(await s.request('GET', '/metrics'), 401, 'unauthorized')
    expectError(await s.request('GET', '/metrics', undefined, { authorization: 'Bearer wrong' }), 401, 'unauthorized')
    const m = parseScrape(expectStatus(await s.request('GET', '/metrics', undefined, { authorization: `Bearer ${TOKEN}` }), 200))
    assert.ok(m.families.has('docket_tasks'))
  } finally {
    await s.close()
  }
})

test('--metrics-public opens /metrics alone', async () => {
  const s = await startServer({ token: TOKEN, metricsPublic: true })
  try {
    assert.ok(parseScrape(expectStatus(await s.request('GET', '/metrics'), 200)).families.has('docket_claims_total'))
    expectError(await s.request('GET', '/tasks'), 401, 'unauthorized')
    expectError(await s.request('GET', '/info'), 401, 'unauthorized')
  } finally {
    await s.close()
  }
})

test.run()
