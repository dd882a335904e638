// GET /tasks/{id}/wait: requests waiting for tasks to reach an outcome. Like the long-poll claims
// (waiters.ts), nothing polls the database: each committed write of this process (and each wake-up from
// another node, with PostgreSQL) pokes the watch, which then reads every watched task in one query, once
// per event-loop turn at most, and answers the waiters whose task is done. So a thousand waiters cost one
// read of a thousand rows per burst of writes, and nothing while nothing is written.
import type { TaskRow } from '../store/types.ts'

type Watcher = {
  /** The stage that also ends the wait (besides a terminal one, a dead letter or a cancel), or null. */
  stage: string | null
  /** The task as last read: what a wait that times out answers with. */
  last: TaskRow
  /** The task when done, or null when the time ran out, the client left or the task was deleted. */
  settle(done: TaskRow | null, gone: boolean): void
}

export type WaitOutcome = { task: TaskRow; isDone: boolean; isGone: boolean }

export function createTaskWatch(
  readTasks: (ids: readonly string[]) => Promise<TaskRow[]>,
  isDone: (task: TaskRow, stage: string | null) => Promise<boolean>,
  onError: (err: unknown) => void,
) {
  const byTask = new Map<string, Set<Watcher>>()
  let isChecking = false
  let isPoked = false

  function remove(id: string, w: Watcher): void {
    const set = byTask.get(id)
    set?.delete(w)
    if (set?.size === 0) byTask.delete(id)
  }

  async function check(): Promise<void> {
    try {
      while (isPoked) {
        isPoked = false
        const ids = [...byTask.keys()]
        const rows = new Map((await readTasks(ids)).map((t) => [t.id, t]))
        for (const id of ids) {
          const task = rows.get(id)
          for (const w of [...(byTask.get(id) ?? [])]) {
            if (task === undefined) {
              remove(id, w)
              w.settle(null, true)
              continue
            }
            w.last = task
            if (!(await isDone(task, w.stage))) continue
            remove(id, w)
            w.settle(task, false)
          }
        }
      }
    } catch (err) {
      onError(err) // storage busy: the next poke reads again
    } finally {
      isChecking = false
    }
  }

  const watch = {
    isDone,

    /** A write committed: re-read the watched tasks soon (once per event-loop turn). */
    poke(): void {
      if (byTask.size === 0) return
      isPoked = true
      if (isChecking) return
      isChecking = true
      setImmediate(() => void check())
    },

    count(): number {
      let n = 0
      for (const set of byTask.values()) n += set.size
      return n
    },

    /**
     * Waits up to `waitMs` for `task` to be done. Registered before the first check, so no write between
     * the caller's read and the registration goes unseen.
     */
    wait(task: TaskRow, stage: string | null, waitMs: number, signal: AbortSignal): Promise<WaitOutcome> {
      return new Promise((resolve) => {
        const w: Watcher = {
          stage,
          last: task,
          settle: (done, gone) => {
            clearTimeout(deadline)
            signal.removeEventListener('abort', stop)
            resolve({ task: done ?? w.last, isDone: done !== null, isGone: gone })
          },
        }
        const stop = () => {
          remove(task.id, w)
          w.settle(null, false)
        }
        const deadline = setTimeout(stop, waitMs)
        signal.addEventListener('abort', stop, { once: true })
        let set = byTask.get(task.id)
        if (set === undefined) byTask.set(task.id, set = new Set())
        set.add(w)
        watch.poke()
      })
    },

    /** Shutdown: every wait answers now with the task as last read. */
    close(): void {
      for (const [id, set] of [...byTask]) for (const w of [...set]) { remove(id, w); w.settle(null, false) }
    },
  }
  return watch
}

export type TaskWatch = ReturnType<typeof createTaskWatch>
