// The contract between bench/run.ts and the workloads in bench/workloads/*.ts.

export type DocketProcess = {
  /** http://127.0.0.1:PORT of a Docket started as a child process on a fresh temp database. */
  url: string
  pid: number
  /** What it serves: the SQLite file (for in-process baselines over the same schema), or the postgres:// URL. */
  dbPath: string
  /** Highest resident set size seen so far, in MiB (sampled from /proc while the process runs). */
  peakRssMb(): number
  stop(): Promise<void>
}

export type StartOptions = {
  /** Fills the database (file or URL) before Docket opens it (e.g. a million tasks written directly). */
  prepareDb?(dbPath: string): void | Promise<void>
  /** Names the process in --profile output. */
  label?: string
  /** PostgreSQL runs: serve this database (another node's) instead of a new one. */
  database?: string
}

export type Driver = 'sqlite' | 'postgres'

export type BenchContext = {
  /** A short run: smaller counts, same shape, for CI-like smoke runs (npm run bench -- --quick). */
  quick: boolean
  /** What Docket stores on in this run (npm run bench -- --driver postgres). */
  driver: Driver
  /** PostgreSQL runs: a new empty database on the bench's cluster (for Docket, or pg-boss beside it). */
  newDatabase(): Promise<string>
  /** Starts Docket (node src/server.ts) with extra CLI flags, e.g. ['--durability', 'full']. */
  startDocket(extraArgs?: string[], options?: StartOptions): Promise<DocketProcess>
  log(message: string): void
}

export type WorkloadResult = {
  /** Flat metrics, named with their unit: cycles_per_s, claim_p99_ms, ratio_http_to_inprocess, peak_rss_mb. */
  metrics: Record<string, number | string>
  /** What limits these numbers, in a sentence or two each. */
  notes?: string[]
}

export type Workload = {
  name: string
  description: string
  /** The drivers it measures (default: SQLite only). */
  drivers?: readonly Driver[]
  run(ctx: BenchContext): Promise<WorkloadResult>
}
