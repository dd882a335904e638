import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, TEST_DRIVER } from '../helpers/server.ts'
import { expectError, expectStatus } from '../helpers/fixtures.ts'
import { VERSION } from '../../src/version.ts'

const test = suite('ready and info')
const TOKEN = 'ready-test-token'

test('/ready is 200 while the database answers, without the token', async () => {
  const s = await startServer({ token: TOKEN })
  try {
    assert.equal(expectStatus(await s.request('GET', '/ready'), 200).body, { status: 'ready' })
    expectStatus(await s.request('HEAD', '/ready'), 200)
  } finally {
    await s.close()
  }
})

test('/ready is 503 with a reason once shutdown begins, while /health stays 200', async () => {
  const s = await startServer()
  try {
    s.docket.close()
    const res = expectError(await s.request('GET', '/ready'), 503, 'not_ready')
    assert.match(res.body.error.message, /shutting down/)
    expectStatus(await s.request('GET', '/health'), 200)
  } finally {
    await s.close()
  }
})

test('/info tells the version, driver, auth mode, durability and limits, behind the token', async () => {
  const s = await startServer({ token: TOKEN, maxBodyBytes: 4096, durability: TEST_DRIVER === 'sqlite' ? 'full' : null })
  try {
    expectError(await s.request('GET', '/info'), 401, 'unauthorized')
    const info = expectStatus(await s.request('GET', '/info', undefined, { authorization: `Bearer ${TOKEN}` }), 200).body
    assert.equal(info, {
      version: VERSION, driver: TEST_DRIVER, auth: 'token', durability: TEST_DRIVER === 'sqlite' ? 'full' : null, metrics_public: false,
      limits: { max_body_bytes: 4096, min_lease_ttl_ms: 1000, max_lease_ttl_ms: 86_400_000, max_claim_wait_ms: 60_000 },
    })
  } finally {
    await s.close()
  }
})

test.run()
