// The due times of every schedule, earliest first: a binary min-heap. A schedule that changes is pushed
// again with a new generation; the older entry is dropped when it reaches the top (lazy deletion), so a
// change costs O(log n) and never a search.

type Item = { atMs: number; name: string; generation: number }

// Superseded entries are kept until they outnumber the live ones (plus this), then dropped all at once.
const COMPACT_SLACK = 1024

export type DueHeap = ReturnType<typeof createDueHeap>

export function createDueHeap() {
  const items: Item[] = []
  const current = new Map<string, number>() // name → its live generation
  let generations = 0

  const less = (a: number, b: number) => items[a].atMs < items[b].atMs
  function swap(a: number, b: number): void {
    [items[a], items[b]] = [items[b], items[a]]
  }
  function up(i: number): void {
    for (let p = (i - 1) >> 1; i > 0 && less(i, p); i = p, p = (i - 1) >> 1) swap(i, p)
  }
  function down(i: number): void {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < items.length && less(l, m)) m = l
      if (r < items.length && less(r, m)) m = r
      if (m === i) return
      swap(i, m)
      i = m
    }
  }
  function pop(): Item {
    const top = items[0]
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      down(0)
    }
    return top
  }
  /**
   * Drops every superseded entry and rebuilds the heap: entries due far ahead (a yearly schedule put again and
   * again) would otherwise wait for the top a long time, and pile up meanwhile.
   */
  function compact(): void {
    const live = items.filter((item) => current.get(item.name) === item.generation)
    items.length = 0
    items.push(...live)
    for (let i = (items.length >> 1) - 1; i >= 0; i--) down(i)
  }
  /** Drops superseded entries off the top. */
  function clean(): void {
    while (items.length > 0 && current.get(items[0].name) !== items[0].generation) pop()
  }

  return {
    /** Sets (or, with null, clears) when `name` is next due. */
    set(name: string, atMs: number | null): void {
      if (atMs === null) {
        current.delete(name)
        return
      }
      const generation = ++generations
      current.set(name, generation)
      items.push({ atMs, name, generation })
      up(items.length - 1)
      if (items.length > 2 * current.size + COMPACT_SLACK) compact()
    },
    /** The earliest due time, or null if nothing is due ever. */
    peek(): number | null {
      clean()
      return items.length > 0 ? items[0].atMs : null
    },
    /** Removes and returns the names due at or before `nowMs`. */
    takeDue(nowMs: number): string[] {
      const due: string[] = []
      for (clean(); items.length > 0 && items[0].atMs <= nowMs; clean()) {
        const { name } = pop()
        current.delete(name)
        due.push(name)
      }
      return due
    },
    /** Entries held, superseded ones included (at most about twice the live ones). */
    held: (): number => items.length,
    clear(): void {
      items.length = 0
      current.clear()
    },
  }
}
