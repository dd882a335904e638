// Runs the store workload without bench/run.ts: node bench/store-standalone.ts [--quick] [sizes...]
// e.g. `node bench/store-standalone.ts 100000 1000000`. Prints the metrics as JSON.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BenchContext, DocketProcess } from './lib/types.ts'
import { runStore } from './workloads/store.ts'

const root = new URL('..', import.meta.url).pathname
const log = (m: string) => process.stderr.write(`${m}\n`)

async function startDocket(extraArgs: string[] = []): Promise<DocketProcess> {
  const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), 'docket-bench-'))
  const dbPath = join(dir, 'docket.db')
  const child = spawn(process.execPath, ['src/server.ts', '--port', '0', '--db', dbPath, ...extraArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  const url = await new Promise<string>((resolve, reject) => {
    let seen = ''
    const onData = (chunk: Buffer) => {
      seen += chunk
      const m = /listening on (http:\/\/\S+)/.exec(seen)
      if (m) resolve(m[1])
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`docket exited ${code}: ${seen}`)))
  })
  const peakRssMb = () => {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
    return m ? Math.round(Number(m[1]) / 1024) : NaN
  }
  return {
    url, pid: child.pid!, dbPath, peakRssMb,
    stop: () => new Promise((resolve) => {
      child.once('exit', () => { rmSync(dir, { recursive: true, force: true }); resolve() })
      child.kill('SIGTERM')
    }),
  }
}

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const sizes = args.filter((a) => /^\d+$/.test(a)).map(Number)
const ctx: BenchContext = { quick, startDocket, log }
const result = await runStore(ctx, sizes.length ? sizes : undefined)
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
