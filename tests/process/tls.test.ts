import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { connect } from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runCli, startProcess, tempDir, type DocketProcess } from '../helpers/process.ts'
import { bearer, expectError, expectStatus, unique } from '../helpers/fixtures.ts'
import { clientTls, httpsRequest, makePki, type ClientTls, type Pki } from '../helpers/tls.ts'

type Ctx = { dir: string; pki: Pki; remove(): void }
const test = suite<Ctx>('tls (child process)', {} as Ctx)
const TOKEN = 'tok-5be0c3d9a14f7e21'

test.before((ctx) => {
  const tmp = tempDir()
  Object.assign(ctx, { dir: tmp.dir, remove: tmp.remove, pki: makePki(tmp.dir) })
})
test.after((ctx) => ctx.remove())

const db = (ctx: Ctx) => ['--db', join(ctx.dir, `${unique('db')}.db`)]
const serverFlags = ({ pki }: Ctx) => ['--tls-cert', pki.server.cert, '--tls-key', pki.server.key]
const mtlsFlags = (ctx: Ctx) => [...serverFlags(ctx), '--tls-client-ca', ctx.pki.ca.cert]

/** Runs `body` against a Docket started with `args`, then stops it and expects a clean exit. */
async function withDocket(ctx: Ctx, args: string[], client: ClientTls, body: (p: DocketProcess) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const p = await startProcess([...db(ctx), ...args], env, client)
  try {
    await body(p)
  } finally {
    assert.equal(await p.kill('SIGTERM'), { code: 0, signal: null }, p.output())
  }
}

/** The error a request failed with; fails the test if it was answered. */
async function refusal(request: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  const error = await request.then(() => null, (err: NodeJS.ErrnoException) => err)
  if (error === null) assert.unreachable('the request was answered')
  return error!
}

test('with --tls-cert and --tls-key Docket serves HTTPS on its port and says so', async (ctx) => {
  await withDocket(ctx, serverFlags(ctx), clientTls(ctx.pki), async (p) => {
    assert.match(p.url, /^https:\/\/127\.0\.0\.1:\d+$/)
    assert.match(p.output(), /API auth: none\n/)
    assert.is(expectStatus(await p.request('GET', '/health'), 200).body.auth, 'none')
    const definition = { initial: 'a', states: { a: { agent_role: unique('r') }, b: { terminal: true } }, transitions: [{ from: 'a', to: 'b', trigger: 'go' }] }
    expectStatus(await p.request('POST', '/pipelines', { name: unique('p'), definition }), 201)
    // The HTTP limits hold over HTTPS too.
    expectStatus(await p.request('GET', '/health', undefined, { 'x-big': 'h'.repeat(17 * 1024) }), 431)
    // Plain HTTP on the same port gets no answer.
    await refusal(fetch(p.url.replace('https:', 'http:') + '/health'))
  })
})

test('a server certificate the client does not trust is refused by the client', async (ctx) => {
  await withDocket(ctx, serverFlags(ctx), clientTls(ctx.pki), async (p) => {
    const err = await refusal(httpsRequest(p.url, { ca: readFileSync(ctx.pki.otherCa.cert) }, 'GET', '/health'))
    assert.is(err.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', String(err))
  })
})

test('with --tls-client-ca a client without a certificate is refused', async (ctx) => {
  await withDocket(ctx, mtlsFlags(ctx), clientTls(ctx.pki, ctx.pki.client), async (p) => {
    const err = await refusal(httpsRequest(p.url, clientTls(ctx.pki), 'GET', '/health'))
    assert.match(String(err.code), /CERTIFICATE_REQUIRED|ECONNRESET/, String(err))
    expectStatus(await p.request('GET', '/health'), 200) // and the server goes on serving
  })
})

test('with --tls-client-ca a client certificate from another CA is refused', async (ctx) => {
  await withDocket(ctx, mtlsFlags(ctx), clientTls(ctx.pki, ctx.pki.client), async (p) => {
    const err = await refusal(httpsRequest(p.url, clientTls(ctx.pki, ctx.pki.otherClient), 'GET', '/tasks'))
    assert.match(String(err.code), /UNKNOWN_CA|ECONNRESET/, String(err))
    expectStatus(await p.request('GET', '/health'), 200)
  })
})

test('with --tls-client-ca a certificate from that CA is served, and /health says mtls', async (ctx) => {
  await withDocket(ctx, mtlsFlags(ctx), clientTls(ctx.pki, ctx.pki.client), async (p) => {
    assert.match(p.output(), /API auth: mtls\n/)
    assert.is(expectStatus(await p.request('GET', '/health'), 200).body.auth, 'mtls')
    expectStatus(await p.request('GET', '/tasks'), 200)
  })
})

test('DOCKET_TLS_CERT, DOCKET_TLS_KEY and DOCKET_TLS_CLIENT_CA work like the flags', async (ctx) => {
  const { pki } = ctx
  const env = { DOCKET_TLS_CERT: pki.server.cert, DOCKET_TLS_KEY: pki.server.key, DOCKET_TLS_CLIENT_CA: pki.ca.cert }
  await withDocket(ctx, [], clientTls(pki, pki.client), async (p) => {
    assert.match(p.url, /^https:/)
    assert.is(expectStatus(await p.request('GET', '/health'), 200).body.auth, 'mtls')
    await refusal(httpsRequest(p.url, clientTls(pki), 'GET', '/health'))
  }, env)
})

test('the API token rules hold over TLS and over mTLS', async (ctx) => {
  for (const [flags, mode] of [[serverFlags(ctx), 'token'], [mtlsFlags(ctx), 'token+mtls']] as const) {
    await withDocket(ctx, [...flags, '--token', TOKEN], clientTls(ctx.pki, ctx.pki.client), async (p) => {
      assert.is(expectStatus(await p.request('GET', '/health'), 200).body.auth, mode)
      expectError(await p.request('GET', '/tasks'), 401, 'unauthorized')
      expectError(await p.request('GET', '/tasks', undefined, bearer(`${TOKEN}x`)), 401, 'unauthorized')
      expectStatus(await p.request('GET', '/tasks', undefined, bearer(TOKEN)), 200)
    })
  }
})

test('a non-loopback --host starts without a token when client certificates are required', async (ctx) => {
  // Bound to every address, but every request goes to 127.0.0.1.
  await withDocket(ctx, ['--host', '0.0.0.0', ...mtlsFlags(ctx)], clientTls(ctx.pki, ctx.pki.client), async (p) => {
    assert.match(p.url, /^https:\/\/0\.0\.0\.0:\d+$/)
    const url = p.url.replace('0.0.0.0', '127.0.0.1')
    expectStatus(await httpsRequest(url, clientTls(ctx.pki, ctx.pki.client), 'GET', '/tasks'), 200)
    await refusal(httpsRequest(url, clientTls(ctx.pki), 'GET', '/tasks'))
  })
})

test('a non-loopback --host with TLS but neither a client CA nor a token still refuses to start', async (ctx) => {
  const { code, output } = await runCli(['--host', '0.0.0.0', '--port', '0', ...db(ctx), ...serverFlags(ctx)])
  assert.is(code, 2)
  assert.match(output, /refusing to listen on 0\.0\.0\.0.*--tls-client-ca/)
})

test('a client that never finishes the handshake is cut off within the headers timeout', async (ctx) => {
  await withDocket(ctx, [...serverFlags(ctx), '--headers-timeout-ms', '1000'], clientTls(ctx.pki), async (p) => {
    const { hostname, port } = new URL(p.url)
    const socket = connect(Number(port), hostname)
    const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now())))
    socket.on('error', () => {}) // a reset is as good as a close here
    const start = performance.now()
    socket.write('\x16\x03\x01') // the first bytes of a ClientHello, and nothing more
    expectStatus(await p.request('GET', '/health'), 200) // others are served meanwhile
    const elapsed = (await closed) - start
    assert.ok(elapsed >= 900 && elapsed < 3000, `closed after ${elapsed} ms`)
  })
})

test('TLS configuration mistakes exit 2 with one line and the usage, never a stack', async (ctx) => {
  const { pki, dir } = ctx
  const garbage = join(dir, 'garbage.pem')
  writeFileSync(garbage, 'not a certificate\n')
  const brokenCert = join(dir, 'broken.pem')
  writeFileSync(brokenCert, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')
  const missing = join(dir, 'missing.pem')
  const cases: Array<[string[], RegExp]> = [
    [['--tls-cert', pki.server.cert], /--tls-cert and --tls-key go together/],
    [['--tls-key', pki.server.key], /--tls-cert and --tls-key go together/],
    [['--tls-client-ca', pki.ca.cert], /--tls-client-ca needs --tls-cert and --tls-key/],
    [['--tls-cert', missing, '--tls-key', pki.server.key], /cannot read --tls-cert .*missing\.pem \(ENOENT\)/],
    [['--tls-cert', pki.server.cert, '--tls-key', dir], /cannot read --tls-key .* \(EISDIR\)/],
    [['--tls-cert', garbage, '--tls-key', pki.server.key], /--tls-cert .* holds no PEM certificate/],
    [['--tls-cert', brokenCert, '--tls-key', pki.server.key], /--tls-cert .* holds a certificate that does not parse/],
    [['--tls-cert', pki.server.cert, '--tls-key', garbage], /--tls-key .* is not a PEM private key/],
    [['--tls-cert', pki.server.cert, '--tls-key', pki.client.key], /--tls-key .* does not fit --tls-cert/],
    [[...serverFlags(ctx), '--tls-client-ca', garbage], /--tls-client-ca .* holds no PEM certificate/],
    [[...serverFlags(ctx), '--tls-client-ca', brokenCert], /--tls-client-ca .* holds a certificate that does not parse/],
    [[...serverFlags(ctx), '--tls-client-ca', missing], /cannot read --tls-client-ca .* \(ENOENT\)/],
  ]
  // Four at a time: twelve Node processes starting at once take over 10 s on a loaded 2-core machine.
  const exits: Awaited<ReturnType<typeof runCli>>[] = []
  for (let i = 0; i < cases.length; i += 4) {
    exits.push(...await Promise.all(cases.slice(i, i + 4).map(([args]) => runCli(['--port', '0', ...db(ctx), ...args]))))
  }
  exits.forEach(({ code, output }, i) => {
    const what = cases[i][0].join(' ')
    assert.is(code, 2, what)
    const [first, second] = output.split('\n')
    assert.match(first, /^docket: /, what)
    assert.match(first, cases[i][1], what)
    assert.match(second, /^Usage:/, what)
    assert.not.match(output, /^\s+at /m, what)
  })
  // The environment's mistakes are reported the same way.
  const { code, output } = await runCli(['--port', '0', ...db(ctx)], { DOCKET_TLS_KEY: pki.server.key })
  assert.is(code, 2)
  assert.match(output, /^docket: --tls-cert and --tls-key go together/)
})

test.run()
