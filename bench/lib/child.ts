import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { REPO_ROOT } from './docket.ts'

const NODE = join(REPO_ROOT, 'node_modules/.bin/node')
const ENTRY = join(REPO_ROOT, 'bench/lib/child-entry.ts')
const RESULT = 'BENCH-RESULT '

export type Job =
  | { kind: 'inprocess'; tasks: number; warmup: number; durability: 'normal' | 'full'; deadlineMs: number }
  | { kind: 'seed'; dbPath: string; queued: number; blocked?: number; deadlineMs: number }

/**
 * Runs a better-sqlite3 job in a separate node process and returns its result. On Node ≥ 24.19 with
 * better-sqlite3 12.x, a Statement or Database that the GC collects can abort the process (node::ObjectWrap's
 * new cleanup hook: "Assertion failed: (env) != nullptr"); keeping that work out of the runner keeps the
 * runner alive, and an abort after the result was written costs nothing.
 */
export function runChild<T>(job: Job, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, [ENTRY, JSON.stringify(job)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-8192)))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT))
      if (line !== undefined) return resolve(JSON.parse(line.slice(RESULT.length)) as T)
      reject(new Error(`${job.kind} job failed (exit ${code ?? signal}):\n${stderr.trim()}`))
    })
  })
}

export function reportResult(value: unknown): void {
  process.stdout.write(`${RESULT}${JSON.stringify(value)}\n`, () => process.exit(0))
}
