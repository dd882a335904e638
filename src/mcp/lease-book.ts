// Where the MCP layer keeps lease tokens: in the memory of the process that serves the tools (the stdio
// bridge, or one Docket node for /mcp), never in a tool result, a resource, a log line or the database.
// A task has at most one live lease, so the book is keyed by task; each entry says which agent claimed it,
// and an agent sees only its own entries. A process that restarts has an empty book: the model gets
// `lease_lost` and the lease expires as usual.

export type HeldLease = {
  agentId: string
  taskId: string
  runId: string
  token: string
  /** As Docket last said (claim, heartbeat). */
  expiresAtMs: number
}

/** Entries of leases that ran out are kept this long after, so a late call says `lease_expired`, not `lease_lost`. */
const KEEP_EXPIRED_MS = 10 * 60_000
const SWEEP_EVERY_MS = 60_000

export type LeaseBook = ReturnType<typeof createLeaseBook>

export function createLeaseBook(now: () => number) {
  const byTask = new Map<string, HeldLease>()
  let sweptAtMs = now()

  function sweep(): void {
    const at = now()
    if (at - sweptAtMs < SWEEP_EVERY_MS) return
    sweptAtMs = at
    for (const [taskId, lease] of byTask) if (lease.expiresAtMs + KEEP_EXPIRED_MS < at) byTask.delete(taskId)
  }

  return {
    hold(lease: HeldLease): void {
      sweep()
      byTask.set(lease.taskId, lease)
    },
    /** The lease on `taskId` this agent holds here (`agentId` null: whichever agent holds it here). */
    find(taskId: string, agentId: string | null): HeldLease | undefined {
      const lease = byTask.get(taskId)
      return lease !== undefined && (agentId === null || lease.agentId === agentId) ? lease : undefined
    },
    extend(lease: HeldLease, expiresAtMs: number): void {
      lease.expiresAtMs = expiresAtMs
    },
    /** Forgets a lease that ended (or that Docket no longer honours); only that run's entry. */
    drop(lease: HeldLease): void {
      if (byTask.get(lease.taskId) === lease) byTask.delete(lease.taskId)
    },
    heldBy(agentId: string | null): HeldLease[] {
      return [...byTask.values()].filter((l) => agentId === null || l.agentId === agentId)
    },
  }
}
