import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { NODE } from '../../helpers/process.ts'
import { waitFor } from './wait.ts'

// tests/helpers/postgres.ts must leave no postgres behind however a test run ends. Each case is a child test
// process that starts the shared cluster; all three start together (a cluster start is ~1 s). SIGINT and
// SIGHUP take the same path as SIGTERM.
type Ctx = { ends: Run; term: Run; killed: Run }
const test = suite<Ctx>('postgres test cluster', {} as Ctx)
const CHILD = new URL('./cluster-child.ts', import.meta.url).pathname

type Run = { pid: number; dir: string; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; kill(s: NodeJS.Signals): void }

function startChild(mode: 'wait' | 'exit-code'): Promise<Run> {
  const child = spawn(NODE, [CHILD, mode], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      if (out.includes('\n')) resolve({ ...JSON.parse(out), exited, kill: (s: NodeJS.Signals) => child.kill(s) })
    })
    exited.then((e) => { if (!out.includes('\n')) reject(new Error(`child ended before starting a cluster: ${JSON.stringify(e)}`)) })
  })
}

const isRunning = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }
const gone = async (run: Run, withinMs: number) => {
  await waitFor(() => !isRunning(run.pid) && !existsSync(run.dir), withinMs, `postgres ${run.pid} still running or ${run.dir} still there`)
}

test.before(async (ctx) => {
  ;[ctx.ends, ctx.term, ctx.killed] = await Promise.all([startChild('exit-code'), startChild('wait'), startChild('wait')])
})

test('a run that ends by itself stops the cluster before it exits, and keeps its exit code', async ({ ends: run }) => {
  assert.equal(await run.exited, { code: 3, signal: null })
  assert.not.ok(isRunning(run.pid), 'postgres still running when the test process had exited')
  assert.not.ok(existsSync(run.dir))
})

test('SIGTERM stops the cluster, then ends the run by that signal', async ({ term: run }) => {
  run.kill('SIGTERM')
  assert.equal(await run.exited, { code: null, signal: 'SIGTERM' })
  await gone(run, 2_000)
})

test('SIGKILL of the test process: the watchdog stops the cluster and removes its directory', async ({ killed: run }) => {
  run.kill('SIGKILL')
  await run.exited
  await gone(run, 10_000)
})

test.run()
