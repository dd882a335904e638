// Schedules: what 10,000 loaded schedules cost the timer while none is due (CPU), how long a restart takes
// to load them, and how late fires are when 1 in 60 of them falls due every second (the lateness of a
// fire is its task's created_at_ms minus its slot, both by the server's clock).
import { setTimeout as sleep } from 'node:timers/promises'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import type { Workload } from '../lib/types.ts'
import { createClient, type Client } from '../lib/client.ts'
import { processCpuMs } from '../lib/docket.ts'
import { cycleDefinition } from '../lib/pipeline.ts'
import { round, summarize } from '../lib/stats.ts'

const FULL = { schedules: 10_000, firingMs: 20_000 }
const QUICK = { schedules: 2_000, firingMs: 8_000 }
const IDLE_MS = 5_000
const CONNECTIONS = 8
const PUT_DEADLINE_MS = 120_000

/** PUTs every schedule `bodyOf(i)` over a few connections; bounded in time. */
async function putAll(client: Client, n: number, bodyOf: (i: number) => unknown, expect: number): Promise<number> {
  const started = performance.now()
  let next = 0
  const worker = async () => {
    while (next < n) {
      if (performance.now() - started > PUT_DEADLINE_MS) throw new Error(`PUT of ${n} schedules took over ${PUT_DEADLINE_MS} ms`)
      const i = next++
      await client.call('PUT', `/schedules/bench-${i}`, bodyOf(i), [expect])
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, worker))
  return (performance.now() - started) / 1000
}

/** Lateness of the fires whose slots fall in [fromMs, toMs], and how many slots have two tasks (must be 0). */
function readFires(dbPath: string, fromMs: number, toMs: number): { lateMs: number[]; duplicates: number } {
  const db = new Database(dbPath, { readonly: true })
  try {
    const lateMs = db.prepare(`
      SELECT created_at_ms - json_extract(metadata_json, '$.scheduled_at_ms') FROM tasks
      WHERE json_extract(metadata_json, '$.scheduled_at_ms') BETWEEN ? AND ?`).pluck().all(fromMs, toMs) as number[]
    const duplicates = db.prepare(`
      SELECT count(*) FROM (SELECT 1 FROM tasks WHERE json_extract(metadata_json, '$.schedule') IS NOT NULL
        GROUP BY json_extract(metadata_json, '$.schedule'), json_extract(metadata_json, '$.scheduled_at_ms') HAVING count(*) > 1)`).pluck().get() as number
    return { lateMs, duplicates }
  } finally {
    db.close()
  }
}

const workload: Workload = {
  name: 'schedules',
  description: '10,000 schedules: idle CPU of the timer, a restart that loads them, lateness of fires at 1/60 of them per second',
  async run(ctx) {
    const size = ctx.quick ? QUICK : FULL
    const snapshot = join(mkdtempSync(join(tmpdir(), 'docket-bench-schedules-')), 'snapshot.db')
    const docket = await ctx.startDocket([], { label: `${size.schedules} schedules` })
    const client = createClient(docket.url, CONNECTIONS)
    try {
      const pipeline_id = (await client.call('POST', '/pipelines', { name: 'schedules', definition: cycleDefinition('schedule-agent') }, [201])).body.id
      const task = { pipeline_id, title: '{{name}} at {{scheduled_at}}' }
      // Yearly: loaded and armed, never due while measured.
      const loadS = await putAll(client, size.schedules, () => ({ cron: '0 0 1 1 *', task }), 201)
      await sleep(1_000)
      const cpu0 = processCpuMs(docket.pid)
      await sleep(IDLE_MS)
      const idleCpuMs = processCpuMs(docket.pid) - cpu0
      ctx.log(`${size.schedules} schedules put in ${round(loadS)} s; ${idleCpuMs} ms CPU in ${IDLE_MS} ms idle`)
      const copy = new Database(docket.dbPath, { readonly: true })
      copy.exec(`VACUUM INTO '${snapshot}'`)
      copy.close()

      // Schedule i fires at second i mod 60 of every minute: a burst of n/60 slots at each second.
      const replaceS = await putAll(client, size.schedules, (i) => ({ cron: `${i % 60} * * * * *`, task }), 200)
      const firingFrom = Date.now()
      await sleep(size.firingMs)
      const firingTo = Date.now()
      // The first and last second are left out: a slot due as the window opens or closes may be mid-fire.
      const { lateMs, duplicates } = readFires(docket.dbPath, firingFrom + 1_000, firingTo - 1_000)
      const late = summarize(lateMs)
      ctx.log(`${late.count} fires: lateness p50 ${round(late.p50)} ms, p99 ${round(late.p99)} ms, max ${round(late.max)} ms`)
      await client.close()
      await docket.stop()

      // A restart over the yearly schedules: it reads every one back and arms the timer as it starts.
      const restartStarted = performance.now()
      const restarted = await ctx.startDocket([], { label: 'restarted', prepareDb: (dbPath) => copyFileSync(snapshot, dbPath) })
      const restartS = (performance.now() - restartStarted) / 1000
      await restarted.stop()
      return {
        metrics: {
          schedules: size.schedules,
          put_per_s: round(size.schedules / loadS),
          idle_cpu_ms_per_s: round(idleCpuMs / (IDLE_MS / 1000)),
          replace_s: round(replaceS),
          fires: late.count,
          fires_per_s: round(late.count / ((firingTo - firingFrom - 2_000) / 1000)),
          lateness_p50_ms: round(late.p50),
          lateness_p99_ms: round(late.p99),
          lateness_max_ms: round(late.max),
          duplicate_slots: duplicates,
          restart_s: round(restartS),
          peak_rss_mb: round(docket.peakRssMb()),
        },
        notes: [
          `Idle CPU: user + system of the server over ${IDLE_MS / 1000} s with ${size.schedules} yearly schedules loaded (10 ms clock ticks).`,
          `Lateness: task created_at_ms − slot, by the server's clock, over a ${size.firingMs / 1000} s window less its first and last second; ${Math.floor(size.schedules / 60)} slots fall due together each second.`,
          'restart_s: from spawning to listening over a copy of the file holding every schedule (the timer reads them back as the server starts, not before it listens).',
        ],
      }
    } finally {
      await client.close().catch(() => {})
      await docket.stop()
      rmSync(dirname(snapshot), { recursive: true, force: true })
    }
  },
}

export default workload
