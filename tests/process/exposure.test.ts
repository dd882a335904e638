import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli, startProcess, tempDir } from '../helpers/process.ts'
import { bearer, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { secretsEqual } from '../../src/domain/token.ts'

const test = suite('exposure (child process)')
const TOKEN = 'tok-3f9a1c77e2b54d0b'

test('a non-loopback --host without a token exits 2 naming --token and --insecure', async () => {
  const { code, output } = await runCli(['--host', '0.0.0.0', '--port', '0'])
  assert.is(code, 2)
  assert.match(output, /refusing to listen on 0\.0\.0\.0/)
  assert.match(output, /--token/)
  assert.match(output, /--insecure/)
})

test('a non-loopback --host starts with --insecure, with --token or with DOCKET_TOKEN', async () => {
  const tmp = tempDir()
  try {
    for (const [args, env] of [[['--insecure'], {}], [['--token', TOKEN], {}], [[], { DOCKET_TOKEN: TOKEN }]] as const) {
      const p = await startProcess(['--host', '0.0.0.0', '--db', `${tmp.dir}/${unique('db')}.db`, ...args], env)
      assert.match(p.url, /^http:\/\/0\.0\.0\.0:\d+$/)
      assert.equal(await p.kill('SIGTERM'), { code: 0, signal: null })
    }
  } finally {
    tmp.remove()
  }
})

test('an unknown flag or an invalid value exits 2 with the usage', async () => {
  const cases = [['--nope'], ['--port', '70000'], ['--port', 'x'], ['--max-body-bytes', '1e6'], ['--durability', 'sometimes'], ['--token', '']]
  const exits = await Promise.all(cases.map((args) => runCli(args)))
  exits.forEach(({ code, output }, i) => {
    assert.is(code, 2, cases[i].join(' '))
    assert.match(output, /^docket: .*\nUsage:/)
  })
})

test('DOCKET_TOKEN guards every API route; the health and OpenAPI routes stay public', async () => {
  const tmp = tempDir()
  const p = await startProcess(['--db', `${tmp.dir}/d.db`], { DOCKET_TOKEN: TOKEN })
  try {
    expectError(await p.request('GET', '/tasks'), 401, 'unauthorized')
    expectError(await p.request('GET', '/tasks', undefined, bearer(`${TOKEN}x`)), 401, 'unauthorized')
    expectStatus(await p.request('GET', '/tasks', undefined, bearer(TOKEN)), 200)
    for (const path of ['/health', '/openapi.json', '/.well-known/openapi.json']) expectStatus(await p.request('GET', path), 200)
  } finally {
    await p.kill('SIGTERM')
    tmp.remove()
  }
})

test('the API token is compared through fixed-length digests, so any length compares without throwing', () => {
  assert.ok(secretsEqual(TOKEN, TOKEN))
  for (const other of ['', 'x', TOKEN.slice(1), `${TOKEN}${TOKEN}`, TOKEN.toUpperCase()]) assert.not.ok(secretsEqual(other, TOKEN))
})

test('the log never contains the API token, a lease token, an Authorization header or a request body', async () => {
  const tmp = tempDir()
  const p = await startProcess(['--db', `${tmp.dir}/d.db`, '--token', TOKEN])
  const secretText = 'body-marker-7d1e5b'
  const api = bearer(TOKEN)
  let leaseToken = ''
  try {
    const role = unique('role')
    const definition = { initial: 'w', states: { w: { agent_role: role }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
    const pipelineId = expectStatus(await p.request('POST', '/pipelines', { name: secretText, definition }, api), 201).body.id
    expectStatus(await p.request('POST', '/tasks', { pipeline_id: pipelineId, title: secretText, description: secretText }, api), 201)
    const lease = expectStatus(await p.request('POST', '/leases/claim', { agent_id: secretText, agent_role: role }, api), 200).body
    leaseToken = lease.lease_token
    expectStatus(await p.request('POST', `/runs/${lease.run.id}/events`, { kind: 'note', data: { secretText } }, bearer(leaseToken)), 201)
    // Failures too: a bad token, malformed JSON, an oversized body.
    expectError(await p.request('GET', '/tasks', undefined, bearer(`${TOKEN}-wrong`)), 401, 'unauthorized')
    expectError(await p.request('POST', '/tasks', `{"title":"${secretText}"`, api), 400, 'invalid_json')
    expectError(await p.request('POST', `/runs/${lease.run.id}/fail`, { error: secretText.repeat(1) }, bearer('f'.repeat(64))), 401, 'unauthorized')
  } finally {
    assert.equal(await p.kill('SIGTERM'), { code: 0, signal: null })
    tmp.remove()
  }
  const log = p.output()
  assert.match(log, /API auth: token\n/)
  assert.ok(leaseToken.length === 64)
  for (const secret of [TOKEN, leaseToken, secretText]) {
    assert.not.ok(log.toLowerCase().includes(secret.toLowerCase()), `log contains ${secret}:\n${log}`)
  }
})

test.run()
