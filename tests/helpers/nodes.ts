// Several Docket processes on one PostgreSQL database (issue 14, item 7: many nodes serve one API).
import { freshDatabase } from './postgres.ts'
import { startProcess, type DocketProcess } from './process.ts'
import { postgresProbe, type Probe } from './sql.ts'

export type Nodes = Probe & {
  /** The database every node serves (its URL holds the test cluster's password: never print it). */
  databaseUrl: string
  nodes: DocketProcess[]
  /** Stops every node still running (SIGTERM, then SIGKILL after 10 s) and the probe's connections. */
  close(): Promise<void>
}

/**
 * Starts `n` nodes at once, `node src/server.ts --db postgres://… --port 0 …args`, on a fresh empty database
 * of the test cluster unless `databaseUrl` names one: they also race to migrate it. If one fails to start,
 * the others are stopped and the error carries its output.
 */
export async function startNodes(n: number, options: { args?: string[]; env?: Record<string, string>; databaseUrl?: string } = {}): Promise<Nodes> {
  const databaseUrl = options.databaseUrl ?? await freshDatabase()
  const started = await Promise.allSettled(Array.from({ length: n }, () =>
    startProcess(['--db', databaseUrl, ...(options.args ?? [])], options.env)))
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const failed = started.find((s) => s.status === 'rejected')
  if (failed !== undefined) {
    await Promise.all(nodes.map(stop))
    throw failed.reason
  }
  const probe = postgresProbe(databaseUrl)
  return {
    ...probe,
    databaseUrl,
    nodes,
    async close() {
      await Promise.all(nodes.map(stop))
      await probe.close()
    },
  }
}

async function stop(node: DocketProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const timer = setTimeout(() => node.child.kill('SIGKILL'), 10_000)
  await node.kill('SIGTERM')
  clearTimeout(timer)
}
