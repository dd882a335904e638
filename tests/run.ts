// Runs every tests/**/*.test.ts file (or those whose path contains an argument) with uvu, and ends with
// the line CI reads: "N passed, N failed".
//
// Two drivers (issue 14). The files under DRIVER_DIRS test Docket through a test server (tests/helpers/
// server.ts), so they run twice: here on SQLite, and meanwhile in a child, `DOCKET_TEST_DRIVER=postgres node
// tests/run.ts …`, on PostgreSQL (one embedded cluster for the child, a fresh database per server). The child's
// output follows this run's; the lines above the last say each driver's counts, the last one is their sum.
// Every other file runs once, on SQLite. A file of DRIVER_DIRS that cannot run on PostgreSQL starts with a
// line `// SQLite only: why`.
// One driver: DOCKET_TEST_DRIVER=sqlite runs every file on SQLite; =postgres runs only the files of
// DRIVER_DIRS that run on PostgreSQL, and fails loudly (0 passed, 1 failed) if PostgreSQL cannot start.
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { registerHooks } from 'node:module'
import { spawn } from 'node:child_process'

// uvu's `total` counts the tests that ran; skipped ones are only in `skipped`.
type Outcome = [errors: string | true, passed: number, skipped: number, total: number]
type Queue = Array<Array<string | null | (() => Promise<Outcome>)>>
const g = globalThis as unknown as { UVU_DEFER: number; UVU_QUEUE: Queue; UVU_INDEX: number }

type Driver = 'sqlite' | 'postgres'
type Counts = { passed: number; failed: number; skipped: number }
const NAME: Record<Driver, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' }
const DRIVER_DIRS = ['http/', 'fuzz/']

const root = new URL('.', import.meta.url).pathname
const filters = process.argv.slice(2)

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [])
}

const isDriverDependent = (file: string) => DRIVER_DIRS.some((d) => relative(root, file).startsWith(d))

/** Why a driver-dependent file runs on SQLite only (its first line), or null. */
function sqliteOnly(file: string): string | null {
  return /^\/\/ SQLite only: (.*)/.exec(readFileSync(file, 'utf8'))?.[1] ?? null
}

const runsOnPostgres = (file: string) => isDriverDependent(file) && sqliteOnly(file) === null

/** Runs `files` with uvu in this process, writing as it goes; the counts (a hook's error counts as a failure). */
async function runFiles(files: string[]): Promise<Counts> {
  // The test files' `import { suite } from 'uvu'` gets helpers/suite.ts, which keeps the errors of hooks.
  const keeper = new URL('./helpers/suite.ts', import.meta.url).href
  registerHooks({
    resolve: (specifier, context, next) => next(specifier === 'uvu' && context.parentURL !== keeper ? keeper : specifier, context),
  })
  g.UVU_DEFER = 1
  g.UVU_QUEUE = []
  for (const [i, file] of files.entries()) {
    g.UVU_INDEX = i
    g.UVU_QUEUE.push([relative(root, file)])
    await import(pathToFileURL(file).href)
  }
  const { hookErrors } = await import(keeper)
  // A promise that rejects with nobody awaiting it (a request a failed test left pending, rejected when its
  // server closed) would end the whole run; it counts as one failure where it is seen, and the run goes on.
  const stray: unknown[] = []
  process.on('unhandledRejection', (err) => { stray.push(err) })
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 }
  for (const group of g.UVU_QUEUE) {
    process.stdout.write(`${group.shift()}\n`)
    for (const suite of group as Array<() => Promise<Outcome>>) {
      const [errors, ok, notRun, total] = await suite()
      counts.passed += ok
      counts.failed += total - ok
      counts.skipped += notRun
      if (typeof errors === 'string') process.stdout.write(`\n${errors}\n`)
      // A `before` that threw already failed every test of the suite; an `after` is a failure of its own.
      if (hookErrors.length > 0 && ok === total) counts.failed += hookErrors.length
      for (const { suite: name, hook, error } of hookErrors.splice(0)) {
        process.stdout.write(`\n  FAIL  ${name}  the ${hook} hook threw\n    ${(error as Error)?.stack ?? error}\n`)
      }
      for (const error of stray.splice(0)) {
        counts.failed++
        process.stdout.write(`\n  FAIL  a promise rejected with nobody awaiting it\n    ${(error as Error)?.stack ?? error}\n`)
      }
    }
    process.stdout.write('\n')
  }
  return counts
}

/** The driver-dependent files on PostgreSQL in a child run, its output kept for after this run's. */
function startPostgresRun(): Promise<{ output: string; counts: Counts }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), ...filters], {
    env: { ...process.env, DOCKET_TEST_DRIVER: 'postgres', DOCKET_TEST_PARENT: '1', ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => { output += d })
  child.stderr.on('data', (d) => { output += d })
  return new Promise((resolve) => child.on('close', (code, signal) => {
    const tail = /\nPostgreSQL: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?\n\d+ passed, \d+ failed\n$/.exec(output)
    if (tail === null) {
      // It died before its last lines (a crash, a signal): a failure, never a silent skip.
      output += `\nthe PostgreSQL run ended without its result (exit code ${code}, signal ${signal})\n`
      resolve({ output, counts: { passed: 0, failed: 1, skipped: 0 } })
      return
    }
    const [passed, failed, skipped] = [tail[1], tail[2], tail[3] ?? '0'].map(Number)
    resolve({ output: output.slice(0, tail.index), counts: { passed, failed, skipped } })
  }))
}

/** The shared cluster, up before any test: a PostgreSQL that cannot start is one loud failure. */
async function startPostgres(): Promise<boolean> {
  // Run by a parent runner: end with it (stdin closes), stopping the cluster (helpers/postgres.ts, SIGTERM).
  if (process.env.DOCKET_TEST_PARENT === '1') {
    process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM')).resume()
    ;(process.stdin as typeof process.stdin & { unref(): void }).unref()
  }
  const { sharedCluster } = await import('./helpers/postgres.ts')
  try {
    await sharedCluster()
    return true
  } catch (err) {
    process.stdout.write(`\nPostgreSQL did not start, so no test ran on it:\n${(err as Error)?.stack ?? err}\n`)
    return false
  }
}

function line(counts: Counts): string {
  return `${counts.passed} passed, ${counts.failed} failed`
}

async function main(): Promise<number> {
  const chosen = process.env.DOCKET_TEST_DRIVER
  if (chosen !== undefined && chosen !== 'sqlite' && chosen !== 'postgres') {
    process.stderr.write(`DOCKET_TEST_DRIVER must be sqlite or postgres, not ${chosen}\n`)
    return 2
  }
  const files = testFiles(root).sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  const driver: Driver = chosen === 'postgres' ? 'postgres' : 'sqlite'
  const here = driver === 'postgres' ? files.filter(runsOnPostgres) : files
  const postgres = chosen === undefined && files.some(runsOnPostgres) ? startPostgresRun() : null

  if (driver === 'postgres') {
    for (const file of files.filter((f) => isDriverDependent(f) && !runsOnPostgres(f))) {
      process.stdout.write(`${relative(root, file)}: SQLite only (${sqliteOnly(file)})\n`)
    }
    if (here.length === 0) process.stdout.write(`no matching file runs on PostgreSQL (only those of ${DRIVER_DIRS.join(', ')} do)\n`)
  }
  const results: Array<[Driver, Counts]> = []
  if (driver === 'postgres' && here.length > 0 && !(await startPostgres())) results.push(['postgres', { passed: 0, failed: 1, skipped: 0 }])
  else results.push([driver, await runFiles(here)])
  if (postgres !== null) {
    process.stdout.write(`── ${NAME.postgres}: ${DRIVER_DIRS.join(', ')} again (DOCKET_TEST_DRIVER=postgres) ──\n`)
    const { output, counts } = await postgres
    process.stdout.write(output)
    results.push(['postgres', counts])
  }

  const sum: Counts = { passed: 0, failed: 0, skipped: 0 }
  for (const [, c] of results) {
    sum.passed += c.passed
    sum.failed += c.failed
  }
  process.stdout.write('\n')
  for (const [name, c] of results) process.stdout.write(`${NAME[name]}: ${line(c)}${c.skipped > 0 ? `, ${c.skipped} skipped` : ''}\n`)
  process.stdout.write(`${line(sum)}\n`)
  return sum.failed > 0 ? 1 : 0
}

process.exitCode = await main()
