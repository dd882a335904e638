// Issue 13, item 4: a full disk. The scenario runs in a private mount namespace (unshare) on a 6 MiB tmpfs,
// so the disk really fills, with nothing mounted outside the test.
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { NODE, tempDir } from '../helpers/process.ts'

const SCENARIO = new URL('./full-disk.scenario.ts', import.meta.url).pathname

const test = suite('full disk (child processes on a small tmpfs)')

let facts: any
test.before(() => {
  const tmp = tempDir()
  try {
    const script = `mount -t tmpfs -o size=6m docket-full "$1" && exec "$2" "$3" "$1"`
    const run = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'sh', '-c', script, 'sh', tmp.dir, NODE, SCENARIO], {
      encoding: 'utf8', timeout: 90_000,
    })
    const line = run.stdout.trim().split('\n').at(-1) ?? ''
    if (!line.startsWith('{')) throw new Error(`the full-disk scenario did not run (unshare and tmpfs are needed):\n${run.stdout}\n${run.stderr}`)
    facts = JSON.parse(line)
  } finally {
    tmp.remove()
  }
})

test('writes on a full disk answer 507 storage_full with a message that says so', () => {
  assert.ok(facts.acknowledged > 0, 'some writes fitted before the disk filled')
  assert.equal({ status: facts.full?.status, code: facts.full?.code }, { status: 507, code: 'storage_full' })
  assert.match(facts.full.message, /disk .* full/)
})

test('reads keep working on a full disk', () => {
  assert.is(facts.healthWhileFull, 200)
  assert.is(facts.readWhileFull, 200)
})

test('SIGTERM on a full disk exits 0 and warns that the last checkpoint could not run', () => {
  assert.equal(facts.stopped, { code: 0, signal: null })
  assert.match(facts.stopOutput, /final WAL checkpoint failed .* nothing is lost/)
})

test('once space is freed, every acknowledged write is there and writes work again', () => {
  assert.is(facts.present, facts.acknowledged)
  assert.is(facts.writeAfterFreeing, 204)
})

test('a backup to a full target fails with a clear message and leaves no file behind', () => {
  assert.is(facts.backup.code, 1, facts.backup.output)
  assert.match(facts.backup.output, /no space left for .*backup\.db/)
  assert.is(facts.backup.destExists, false)
  assert.equal(facts.backup.leftovers, [])
})

test.run()
