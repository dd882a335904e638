import type { Db } from './db.ts'
import { loadMigrations } from './db.ts'

export type HealthStore = ReturnType<typeof createHealthStore>

/** /health reads only counters and the live-lease index: its cost does not grow with the number of tasks. */
export function createHealthStore(db: Db) {
  const stages = db.prepare<[], { stage: string; count: number }>(
    'SELECT stage, count FROM stage_counts WHERE count > 0 ORDER BY stage',
  )
  const activeLeases = db.prepare<[number], number>(
    'SELECT count(*) FROM runs WHERE lease_expires_at_ms > +?',
  ).pluck()
  const latest = loadMigrations().length
  return {
    tasksByStage: () => stages.all(),
    activeLeases: (nowMs: number) => activeLeases.get(nowMs)!,
    /** The file answers and carries every migration this Docket knows (GET /ready). */
    readiness(): { ready: true } | { ready: false; reason: string } {
      const version = db.pragma('user_version', { simple: true }) as number
      return version === latest ? { ready: true } : { ready: false, reason: `schema version ${version}, expected ${latest}` }
    },
  }
}
