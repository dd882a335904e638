import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request, type Res } from './server.ts'
import { httpsRequest, type ClientTls } from './tls.ts'

const ROOT = new URL('../../', import.meta.url).pathname
export const NODE = join(ROOT, 'node_modules/.bin/node')
export const SERVER = join(ROOT, 'src/server.ts')

export type Exit = { code: number | null; signal: NodeJS.Signals | null }

/** A Docket child process: `node src/server.ts …`, with everything it wrote to stdout and stderr kept. */
export type DocketProcess = {
  url: string
  child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Res>
  exited: Promise<Exit>
  kill(signal: NodeJS.Signals): Promise<Exit>
}

export function tempDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'docket-proc-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Runs the CLI to completion (for flag errors, --help, --version). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<Exit & { output: string }> {
  const child = spawn(NODE, [SERVER, ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  // Generous: a CLI that should exit at once may start slowly on a loaded machine; hanging is still caught.
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer)
    resolve({ code, signal, output })
  }))
}

/**
 * Starts Docket on an ephemeral loopback port and resolves once it logs `listening on http(s)://H:P`.
 * `request` speaks HTTPS with `client` (the CA to trust, maybe a client certificate) when Docket serves it.
 */
export function startProcess(args: string[], env: Record<string, string> = {}, client?: ClientTls): Promise<DocketProcess> {
  const child = spawn(NODE, [SERVER, '--port', '0', ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise<Exit>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`docket did not start within 10 s:\n${output}`))
    }, 10_000)
    const onData = (d: Buffer) => {
      output += d
      const m = /listening on (https?:\/\/\S+)/.exec(output)
      if (m === null) return
      clearTimeout(timer)
      const url = m[1]
      resolve({
        url,
        child,
        output: () => output,
        request(method, path, body, headers) {
          if (!url.startsWith('https:')) return request(url, method, path, body, headers)
          if (client === undefined) throw new Error('Docket serves HTTPS: pass startProcess a client')
          return httpsRequest(url, client, method, path, body, headers)
        },
        exited,
        kill(signal) {
          child.kill(signal)
          return exited
        },
      })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    exited.then(() => {
      clearTimeout(timer)
      reject(new Error(`docket exited before listening:\n${output}`))
    })
  })
}

/** The parent's environment without Docket's own variables, so a developer's settings never leak into a test. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith('DOCKET_')) delete env[key]
  return env
}
