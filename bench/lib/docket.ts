import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { DocketProcess, StartOptions } from './types.ts'

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const NODE = join(REPO_ROOT, 'node_modules/.bin/node')
const START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 15_000
const RSS_SAMPLE_MS = 100

const live = new Set<ChildProcess>()
// A bench that dies must not leave servers behind.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

export type SpawnOptions = StartOptions & {
  /** A postgres:// URL to serve instead of a fresh SQLite file. */
  database?: string
  extraArgs?: string[]
  /** Flags for node itself, before the script (e.g. --cpu-prof). */
  nodeArgs?: string[]
}

/** The Node flags of `npm start` (package.json), so the bench measures the server as it is run. */
const SERVER_NODE_FLAGS: string[] = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'))
  .scripts.start.split(' ').filter((word: string) => word.startsWith('--'))

/**
 * Starts `node src/server.ts --host 127.0.0.1 --port 0 --db <tmp>/docket.db ...` and waits for its `listening on`
 * line. The host is explicit so a DOCKET_HOST in the environment cannot move the bench off loopback.
 */
export async function startDocket(opts: SpawnOptions = {}): Promise<DocketProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-'))
  const dbPath = opts.database ?? join(dir, 'docket.db')
  try {
    await opts.prepareDb?.(dbPath)
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const args = [...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []), 'src/server.ts', '--host', '127.0.0.1', '--port', '0', '--db', dbPath, ...(opts.extraArgs ?? [])]
  const child = spawn(NODE, args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  live.add(child)
  const exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(child); resolve() }))

  let stderr = ''
  let peakKb = 0
  const sample = () => {
    const status = readProcStatus(child.pid!)
    if (status !== null) peakKb = Math.max(peakKb, status.hwmKb, status.rssKb)
  }
  const timer = setInterval(sample, RSS_SAMPLE_MS)

  const url = await new Promise<string>((resolve, reject) => {
    const timeout = setTimeout(() => reject(new Error(`docket did not start within ${START_TIMEOUT_MS} ms:\n${stderr}`)), START_TIMEOUT_MS)
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < 64 * 1024) stderr += chunk
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(stderr)
      if (m) {
        clearTimeout(timeout)
        resolve(`http://127.0.0.1:${m[1]}`)
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timeout)
      reject(new Error(`docket exited with ${code} before listening:\n${stderr}`))
    })
  }).catch(async (err) => {
    clearInterval(timer)
    child.kill('SIGKILL')
    await exited
    rmSync(dir, { recursive: true, force: true })
    throw err
  })

  let stopped: Promise<void> | null = null
  // A server that dies under load, or does not stop cleanly, is a finding: say how, with its last words.
  const reportExit = () => {
    if (child.exitCode === 0) return
    process.stderr.write(`docket (pid ${child.pid}) exited with ${child.signalCode ?? `code ${child.exitCode}`}:\n${stderr.slice(-4000)}\n`)
  }
  child.once('exit', () => {
    if (stopped === null) reportExit()
  })
  return {
    url,
    pid: child.pid!,
    dbPath,
    peakRssMb: () => {
      sample()
      return peakKb / 1024
    },
    stop() {
      stopped ??= (async () => {
        sample()
        clearInterval(timer)
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM')
          const force = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
          await exited
          clearTimeout(force)
          reportExit()
        }
        rmSync(dir, { recursive: true, force: true })
      })()
      return stopped
    },
  }
}

/** VmRSS and VmHWM (the kernel's own peak) of a live process, in KiB; null once it is gone. */
function readProcStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0)
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') }
  } catch {
    return null
  }
}

/** Current resident set size of a live process, in MiB (NaN once it is gone). */
export function processRssMb(pid: number): number {
  const status = readProcStatus(pid)
  return status === null ? NaN : status.rssKb / 1024
}

/** User + system CPU time a process has used so far, in ms (from /proc/<pid>/stat; clock ticks of 10 ms). */
export function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return NaN
  }
}
