import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import Database from 'better-sqlite3'
import { startProcess, tempDir } from '../helpers/process.ts'
import { expectStatus, unique } from '../helpers/fixtures.ts'

const test = suite('graceful shutdown (child process)')

const definition = (role: string) => ({ initial: 'w', states: { w: { agent_role: role }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] })

/** Sends the head and half the body of a POST, and returns a function that sends the rest and reads the answer. */
function halfSentPost(url: string, path: string, body: string): Promise<() => Promise<string>> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      let response = ''
      socket.on('data', (d) => { response += d })
      const ended = new Promise<string>((done) => socket.on('close', () => done(response)))
      const half = Math.floor(body.length / 2)
      socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, half)}`)
      // The server has the head once a request is in flight; the rest goes when the test says.
      resolve(async () => {
        socket.write(body.slice(half))
        return ended
      })
    })
  })
}

/** A fresh TCP connection (fetch might reuse a pooled one, which the server still serves while draining). */
function connectionRefused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => {
      socket.destroy()
      resolve(false)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
}

test('SIGTERM: waiting claims answer 204 at once, an in-flight request finishes, new connections are refused, exit 0 with the WAL checkpointed', async () => {
  const tmp = tempDir()
  const db = `${tmp.dir}/d.db`
  const p = await startProcess(['--db', db])
  try {
    const role = unique('role')
    const waiting = Array.from({ length: 5 }, () => p.request('POST', '/leases/claim', { agent_id: unique('a'), agent_role: role, wait_ms: 60_000 }))
    const name = unique('inflight')
    const finish = await halfSentPost(p.url, '/pipelines', JSON.stringify({ name, definition: definition(role) }))
    await p.request('GET', '/health') // the half-sent request has reached the server by now
    const start = performance.now()
    p.child.kill('SIGTERM')
    const claims = await Promise.all(waiting)
    assert.equal(claims.map((r) => r.status), [204, 204, 204, 204, 204])
    assert.ok(performance.now() - start < 1000, 'waiting claims were not answered at once')
    assert.ok(await connectionRefused(p.url), 'a new connection was accepted while draining')
    assert.match(await finish(), /^HTTP\/1\.1 201/)
    const finished = performance.now()
    assert.equal(await p.exited, { code: 0, signal: null })
    // The claims' keep-alive connections, idle now, must not hold the exit for the keep-alive timeout.
    assert.ok(performance.now() - finished < 1000, `exit took ${performance.now() - finished} ms after the last answer`)
    assert.match(p.output(), /SIGTERM: draining\nstopped\n/)
    assert.ok(!existsSync(`${db}-wal`) || statSync(`${db}-wal`).size === 0, 'the WAL was not checkpointed')
    const check = new Database(db, { readonly: true })
    assert.is(check.prepare('SELECT count(*) FROM pipelines WHERE name = ?').pluck().get(name), 1)
    check.close()
  } finally {
    p.child.kill('SIGKILL')
    tmp.remove()
  }
})

test('SIGINT stops the server the same way, with exit 0', async () => {
  const tmp = tempDir()
  const p = await startProcess(['--db', `${tmp.dir}/d.db`])
  try {
    expectStatus(await p.request('GET', '/tasks'), 200) // leaves an idle keep-alive connection behind
    assert.equal(await p.kill('SIGINT'), { code: 0, signal: null })
    assert.match(p.output(), /SIGINT: draining\nstopped\n/)
  } finally {
    tmp.remove()
  }
})

test.run()
