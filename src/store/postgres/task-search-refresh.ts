// Writes the vectors of stale task_search rows (schema.postgres.sql: an update of a task's text by a path
// that wrote no vector, and every task from before the migration), in the background, once a search has met
// some: until then each search tests those rows' text itself, which costs per row (task-pages.ts).
import type pg from 'pg'
import type { Log } from '../../log.ts'
import { taskVector } from './search-vector.ts'

const BATCH = 500

// The vectors are computed here, between reading the text and writing them, so the write must not land on a
// text changed meanwhile: it locks the task rows and keeps those whose text is still what was read (READ
// COMMITTED re-reads a row updated while it waited for the lock), in id order as other multi-row locks go.
// A text update that comes after the lock waits for this statement, and its trigger then marks the row
// stale again.
const STALE = `SELECT t.id, t.title, t.description, t.metadata_json
  FROM task_search s JOIN tasks t ON t.id = s.task_id WHERE s.search IS NULL ORDER BY t.id LIMIT ${BATCH}`
const WRITE = `
  WITH v AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::tsvector[])
                AS v (id, title, description, metadata_json, search)),
  unchanged AS (
    SELECT t.id FROM tasks t JOIN v ON v.id = t.id
    WHERE t.title = v.title AND t.description = v.description AND t.metadata_json = v.metadata_json
    ORDER BY t.id FOR NO KEY UPDATE OF t
  )
  UPDATE task_search s SET search = v.search FROM v JOIN unchanged u ON u.id = v.id
  WHERE s.task_id = v.id AND s.search IS NULL`

type Stale = { id: string; title: string; description: string; metadata_json: string }

/** `poke()` after a search met stale rows: one refresh runs at a time, batch after batch until none is left. */
export function createSearchRefresh(pool: pg.Pool, log: Log) {
  let running: Promise<void> | null = null
  let stopped = false

  async function refresh(): Promise<void> {
    while (!stopped) {
      const { rows } = await pool.query<Stale>(STALE)
      if (rows.length === 0) return
      const column = <T>(f: (r: Stale) => T) => rows.map(f)
      const { rowCount } = await pool.query(WRITE, [
        column((r) => r.id), column((r) => r.title), column((r) => r.description), column((r) => r.metadata_json),
        column((r) => taskVector(r.title, r.description, r.metadata_json)),
      ])
      // None written: every text changed meanwhile (the next search tries again), not a loop over the same rows.
      if (rows.length < BATCH || rowCount === 0) return
      await new Promise((resolve) => setImmediate(resolve)) // other requests between batches
    }
  }

  return {
    poke(): void {
      if (stopped) return
      running ??= refresh()
        .catch((err) => log.error('task search: writing stale vectors failed; the next search retries', err))
        .finally(() => { running = null })
    },
    /** Stops after the batch in hand (the driver closes its pool next). */
    async stop(): Promise<void> {
      stopped = true
      await running
    },
  }
}

export type SearchRefresh = ReturnType<typeof createSearchRefresh>
