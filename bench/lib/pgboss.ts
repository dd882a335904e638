// pg-boss, the job queue a Node user would otherwise pick, on the same PostgreSQL and durability as Docket:
// 8 workers fetch → complete, talking to the database directly (Docket adds an HTTP hop). The reference
// Docket's PostgreSQL driver is measured against (issue 14: ≥ 1.5× pg-boss's cycles/s).
import { PgBoss } from 'pg-boss'
import { round } from './stats.ts'

export type PgBossRun = { jobs: number; cycles: number; cyclesPerS: number; timedOut: boolean; seedSeconds: number }

const QUEUE = 'bench'
const INSERT_CHUNK = 1_000

/** Seeds `jobs` jobs, then `workers` loops of fetch → complete until the queue is empty or the deadline passes. */
export async function pgBossCycles(url: string, opts: { jobs: number; workers: number; warmup: number; deadlineMs: number }): Promise<PgBossRun> {
  // Its own maintenance and cron off: they would run beside the loop and are not what is measured.
  const boss = new PgBoss({ connectionString: url, max: opts.workers + 2, supervise: false, schedule: false })
  boss.on('error', (err) => process.stderr.write(`pg-boss: ${err.message}\n`))
  await boss.start()
  try {
    await boss.createQueue(QUEUE)
    const seedStarted = performance.now()
    const total = opts.warmup + opts.jobs
    for (let i = 0; i < total; i += INSERT_CHUNK) {
      await boss.insert(QUEUE, Array.from({ length: Math.min(INSERT_CHUNK, total - i) }, (_, j) => ({ data: { i: i + j } })))
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000
    await drain(boss, opts.workers, opts.warmup, opts.deadlineMs) // warm-up: JIT, connections, plan cache
    const started = performance.now()
    const { cycles, timedOut } = await drain(boss, opts.workers, opts.jobs, opts.deadlineMs)
    const seconds = (performance.now() - started) / 1000
    return { jobs: opts.jobs, cycles, cyclesPerS: round(cycles / seconds), timedOut, seedSeconds }
  } finally {
    await boss.stop({ graceful: false, close: true })
  }
}

async function drain(boss: PgBoss, workers: number, jobs: number, deadlineMs: number): Promise<{ cycles: number; timedOut: boolean }> {
  let cycles = 0
  let timedOut = false
  const deadline = performance.now() + deadlineMs
  await Promise.all(Array.from({ length: workers }, async () => {
    while (cycles < jobs) {
      if (performance.now() > deadline) {
        timedOut = true
        return
      }
      const [job] = await boss.fetch(QUEUE)
      if (job === undefined) return
      await boss.complete(QUEUE, job.id)
      cycles += 1
    }
  }))
  return { cycles, timedOut }
}
