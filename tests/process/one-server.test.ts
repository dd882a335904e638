// Issue 13, item 3: one Docket server per database file.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { NODE, runCli, startProcess, tempDir } from '../helpers/process.ts'
import { expectStatus } from '../helpers/fixtures.ts'

const test = suite('one server per database file (child processes)')
const BACKUP = new URL('../../src/backup.ts', import.meta.url).pathname

test('a second server on the same file refuses to start (exit 2, naming the file), however the path is spelled', async () => {
  const tmp = tempDir()
  const file = join(tmp.dir, 'docket.db')
  const first = await startProcess(['--db', file])
  try {
    for (const spelling of [file, join(tmp.dir, '.', 'sub', '..', 'docket.db')]) {
      const second = await runCli(['--port', '0', '--db', spelling])
      assert.is(second.code, 2, second.output)
      assert.match(second.output, `another Docket server is already serving ${spelling}`)
      assert.not.match(second.output, /listening on/)
    }
    expectStatus(await first.request('GET', '/health'), 200)
  } finally {
    await first.kill('SIGTERM')
    tmp.remove()
  }
})

test('sqlite3 and a backup work beside a running server', async () => {
  const tmp = tempDir()
  const file = join(tmp.dir, 'docket.db')
  const first = await startProcess(['--db', file])
  try {
    const backup = spawnSync(NODE, [BACKUP, join(tmp.dir, 'copy.db'), '--db', file], { encoding: 'utf8' })
    assert.is(backup.status, 0, backup.stderr)
    assert.ok(existsSync(join(tmp.dir, 'copy.db')))
    // The distribution's sqlite3, as an operator would use it (CI installs it).
    const sqlite = spawnSync('sqlite3', ['-readonly', file, 'SELECT count(*) FROM pipelines'], { encoding: 'utf8' })
    assert.is(sqlite.error, undefined, 'sqlite3 is not installed')
    assert.is(sqlite.stdout.trim(), '0', sqlite.stderr)
  } finally {
    await first.kill('SIGTERM')
    tmp.remove()
  }
})

test('the guard dies with the process: after kill -9, a new server starts on the file at once', async () => {
  const tmp = tempDir()
  const file = join(tmp.dir, 'docket.db')
  const first = await startProcess(['--db', file])
  await first.kill('SIGKILL')
  const next = await startProcess(['--db', file])
  try {
    expectStatus(await next.request('GET', '/health'), 200)
  } finally {
    await next.kill('SIGTERM')
    tmp.remove()
  }
})

test('after a clean stop a new server starts on the file', async () => {
  const tmp = tempDir()
  const file = join(tmp.dir, 'docket.db')
  const first = await startProcess(['--db', file])
  assert.equal(await first.kill('SIGTERM'), { code: 0, signal: null })
  const next = await startProcess(['--db', file])
  await next.kill('SIGTERM')
  tmp.remove()
})

test.run()
