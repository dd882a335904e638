// Run by full-disk.test.ts inside a private mount namespace where `dir` is a small tmpfs, so that the disk
// really fills. Prints one JSON line of what happened; the test asserts on it.
import { existsSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { NODE, startProcess } from '../helpers/process.ts'

const dir = process.argv[2]
const db = join(dir, 'docket.db')
const filler = join(dir, 'filler')
const BACKUP = new URL('../../src/backup.ts', import.meta.url).pathname
const VALUE = { text: 'x'.repeat(60_000) }

/** Leaves about `bytes` free on the tmpfs. */
function fillLeaving(bytes: number): void {
  rmSync(filler, { force: true })
  const st = statfsSync(dir)
  writeFileSync(filler, Buffer.alloc(Math.max(0, st.bavail * st.bsize - bytes)))
}

const first = await startProcess(['--db', db])
const acknowledged: string[] = []
let full: { status: number; code: string; message: string } | null = null
fillLeaving(1_500_000)
for (let i = 0; i < 200 && full === null; i++) {
  const key = `k${i}`
  const res = await first.request('PUT', `/store/fill/${key}`, { value: VALUE })
  if (res.status === 204) acknowledged.push(key)
  else full = { status: res.status, code: res.body?.error?.code, message: res.body?.error?.message }
}
const healthWhileFull = (await first.request('GET', '/health')).status
const readWhileFull = acknowledged.length === 0 ? null : (await first.request('GET', `/store/fill/${acknowledged[0]}`)).status
const stopped = await first.kill('SIGTERM')
const stopOutput = first.output()

rmSync(filler, { force: true })
const second = await startProcess(['--db', db])
let present = 0
for (const key of acknowledged) if ((await second.request('GET', `/store/fill/${key}`)).status === 200) present++
const writeAfterFreeing = (await second.request('PUT', '/store/fill/after', { value: 'ok' })).status
await second.kill('SIGTERM')

// A backup of that database onto the same tmpfs, filled again: too little room for the copy.
fillLeaving(200_000)
const dest = join(dir, 'backup.db')
const backup = spawnSync(NODE, [BACKUP, dest, '--db', db], { encoding: 'utf8' })
const leftovers = readdirSync(dir).filter((f) => f.includes('backup'))

process.stdout.write(`${JSON.stringify({
  acknowledged: acknowledged.length, full, healthWhileFull, readWhileFull,
  stopped, stopOutput, present, writeAfterFreeing,
  backup: { code: backup.status, output: backup.stdout + backup.stderr, destExists: existsSync(dest), leftovers },
})}\n`)
