// A task's runs' events, artifacts and spans in one time-ordered list.
import type { App } from '../app.ts'
import type { RunRow } from '../store/types.ts'

export type TimelineItem = { atMs: number; runId: string | null; source: 'event' | 'artifact' | 'span'; label: string; detail: string }

/** At most this many of each source per run (events) or per task (artifacts, spans). */
const LIMIT = 200

export async function timelineOf(app: App, taskId: string, runs: RunRow[]): Promise<TimelineItem[]> {
  const { reads } = app.driver
  const [events, artifacts, spans] = await Promise.all([
    Promise.all(runs.map((r) => reads.events(r.id, 0, LIMIT))),
    reads.artifacts({ taskId, after: null, limit: LIMIT }),
    reads.spans({ taskId, afterId: 0, limit: LIMIT }),
  ])
  const items: TimelineItem[] = []
  for (const e of events.flat().slice(0, runs.length * LIMIT)) {
    items.push({ atMs: e.ts_ms, runId: e.run_id, source: 'event', label: e.kind, detail: e.data_json })
  }
  for (const a of artifacts.slice(0, LIMIT)) {
    items.push({ atMs: a.created_at_ms, runId: a.run_id, source: 'artifact', label: a.kind, detail: a.uri })
  }
  for (const s of spans.slice(0, LIMIT)) {
    const startMs = Number(BigInt(s.start_time_unix_nano) / 1_000_000n)
    const endMs = Number(BigInt(s.end_time_unix_nano) / 1_000_000n)
    items.push({ atMs: startMs, runId: s.run_id, source: 'span', label: s.name, detail: `${endMs - startMs} ms${s.status_message ? `, ${s.status_message}` : ''}` })
  }
  return items.sort((a, b) => a.atMs - b.atMs)
}
