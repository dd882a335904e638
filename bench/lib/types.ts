// The contract between bench/run.ts and the workloads in bench/workloads/*.ts.

export type DocketProcess = {
  /** http://127.0.0.1:PORT of a Docket started as a child process on a fresh temp database. */
  url: string
  pid: number
  /** The database file it serves (for in-process baselines over the same schema). */
  dbPath: string
  /** Highest resident set size seen so far, in MiB (sampled from /proc while the process runs). */
  peakRssMb(): number
  stop(): Promise<void>
}

export type StartOptions = {
  /** Fills the database file before Docket opens it (e.g. a million tasks written directly with better-sqlite3). */
  prepareDb?(dbPath: string): void | Promise<void>
  /** Names the process in --profile output. */
  label?: string
}

export type BenchContext = {
  /** A short run: smaller counts, same shape, for CI-like smoke runs (npm run bench -- --quick). */
  quick: boolean
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
  run(ctx: BenchContext): Promise<WorkloadResult>
}
