import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import { NODE, startProcess, tempDir } from '../helpers/process.ts'
import { assertConsistent } from '../helpers/invariants.ts'
import { sqliteProbe } from '../helpers/sql.ts'
import { expectError, expectStatus, unique } from '../helpers/fixtures.ts'

const test = suite('backup (child process)')
const BACKUP = new URL('../../src/backup.ts', import.meta.url).pathname

function runBackup(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(NODE, [BACKUP, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })))
}

test('npm run backup runs src/backup-main.js (the Node.js version check), which runs src/backup.ts', () => {
  assert.is(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts.backup, 'node src/backup-main.js')
})

test('a backup taken while the server writes is consistent, holds every write acknowledged before it, and restores', async () => {
  const tmp = tempDir()
  const file = `${tmp.dir}/live.db`
  const copy = `${tmp.dir}/copy.db`
  const p = await startProcess(['--db', file])
  try {
    const definition = { initial: 'w', states: { w: { agent_role: unique('role') }, d: { terminal: true } }, transitions: [{ from: 'w', to: 'd', trigger: 'go' }] }
    const pipelineId = expectStatus(await p.request('POST', '/pipelines', { name: unique('p'), definition }), 201).body.id
    const task = () => ({ pipeline_id: pipelineId, title: unique('t'), description: 'backup' })
    const before = expectStatus(await p.request('POST', '/tasks/bulk', { tasks: Array.from({ length: 200 }, task) }), 201).body.ids as string[]

    // Writers keep going for as long as the backup runs.
    let backingUp = true
    let during = 0
    const writer = async () => {
      while (backingUp) {
        expectStatus(await p.request('POST', '/tasks', task()), 201)
        during++
      }
    }
    const writers = Array.from({ length: 4 }, writer)
    const result = await runBackup([copy, '--db', file])
    backingUp = false
    await Promise.all(writers)
    assert.is(result.code, 0, result.output)
    assert.ok(during > 0, 'nothing was written while the backup ran')
    assert.match(result.output, /integrity ok/)

    const db = new Database(copy, { readonly: true })
    const has = db.prepare('SELECT count(*) FROM tasks WHERE id = ?').pluck()
    for (const id of before) assert.is(has.get(id), 1, `task ${id} acknowledged before the backup is missing`)
    await assertConsistent(sqliteProbe(db))
    db.close()
  } finally {
    assert.equal(await p.kill('SIGTERM'), { code: 0, signal: null })
  }

  // Restoring is starting Docket on the copy.
  const restored = await startProcess(['--db', copy])
  try {
    const listed = expectStatus(await restored.request('GET', '/tasks?limit=1000'), 200).body.items
    assert.ok(listed.length >= 200)
    expectStatus(await restored.request('POST', '/tasks', { pipeline_id: listed[0].pipeline_id, title: 'after restore', description: '' }), 201)
    expectError(await restored.request('GET', '/tasks/nope'), 404, 'not_found')
  } finally {
    assert.equal(await restored.kill('SIGTERM'), { code: 0, signal: null })
    tmp.remove()
  }
})

test('the backup refuses an existing destination, a missing database and stray arguments with exit 2', async () => {
  const tmp = tempDir()
  try {
    const p = await startProcess(['--db', `${tmp.dir}/live.db`])
    await p.kill('SIGTERM')
    const results = await Promise.all([
      runBackup([`${tmp.dir}/live.db`, '--db', `${tmp.dir}/live.db`]),
      runBackup([`${tmp.dir}/copy.db`, '--db', `${tmp.dir}/absent.db`]),
      runBackup([]),
      runBackup([`${tmp.dir}/a.db`, `${tmp.dir}/b.db`]),
      runBackup([`${tmp.dir}/a.db`, '--nope']),
    ])
    for (const r of results) {
      assert.is(r.code, 2, r.output)
      assert.match(r.output, /^docket backup: .*\nUsage: npm run backup/)
    }
    assert.not.ok(existsSync(`${tmp.dir}/copy.db`))
  } finally {
    tmp.remove()
  }
})

test.run()
