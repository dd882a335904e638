// Wake-ups between nodes: one dedicated session that LISTENs (a pooled connection cannot: it is handed to
// other work between queries, and a LISTEN lives as long as its session). NOTIFY is a latency hint only —
// a notification sent while this session was down is lost — so after every reconnect each subscriber is
// called with `null`, meaning "you may have missed some: check again", and callers keep a periodic re-check
// as the backstop (pg-boss, River and graphile-worker do the same).
//
// Needs a session-level connection to PostgreSQL itself: through PgBouncer in transaction pooling mode a
// LISTEN lands on whichever server connection the transaction got and is never delivered here. Point Docket
// at PostgreSQL directly (or at a session-mode pool) when it runs behind PgBouncer.
import type pg from 'pg'
import { createClient } from './connect.ts'
import { decodeText } from './text.ts'

export type Listener = {
  /** Calls `cb` with each payload sent on `channel`, and with null after a reconnect. Returns an unsubscribe. */
  onNotify(channel: string, cb: (payload: string | null) => void): Promise<() => void>
  /** Whether the session is up and listening right now. */
  isConnected(): boolean
  close(): Promise<void>
}

export type ListenerOptions = {
  /** First retry delay; doubles up to maxBackoffMs. */
  minBackoffMs?: number
  maxBackoffMs?: number
  connectTimeoutMs?: number
  onError?(err: Error): void
}

/** Connects (throws if the first connection fails) and keeps the session up until close(). */
export async function startListener(url: string, options: ListenerOptions = {}): Promise<Listener> {
  const minBackoff = options.minBackoffMs ?? 100
  const maxBackoff = options.maxBackoffMs ?? 5_000
  const onError = options.onError ?? (() => {})
  const subscribers = new Map<string, Set<(payload: string | null) => void>>()
  let client: pg.Client | null = null
  let closed = false
  let backoff = minBackoff
  let retry: NodeJS.Timeout | undefined

  const quote = (channel: string) => `"${channel.replaceAll('"', '""')}"`
  const deliver = (channel: string, payload: string | null) => {
    for (const cb of subscribers.get(channel) ?? []) {
      try {
        cb(payload)
      } catch (err) {
        onError(err as Error)
      }
    }
  }

  async function connect(): Promise<void> {
    const c = createClient(url, options.connectTimeoutMs)
    c.on('notification', (n) => deliver(n.channel, n.payload === undefined ? '' : decodeText(n.payload)))
    c.on('error', (err) => {
      onError(err)
      lost(c)
    })
    c.on('end', () => lost(c))
    try {
      await c.connect()
      // Until every subscribed channel is listened to, including one subscribed while this was awaiting.
      const listening = new Set<string>()
      for (let missing = [...subscribers.keys()]; missing.length > 0; missing = [...subscribers.keys()].filter((ch) => !listening.has(ch))) {
        for (const channel of missing) {
          await c.query(`LISTEN ${quote(channel)}`)
          listening.add(channel)
        }
      }
    } catch (err) {
      c.end().catch(() => {})
      throw err
    }
    client = c // from here on, onNotify LISTENs on it itself
  }

  function lost(c: pg.Client): void {
    if (client !== c) return
    client = null
    c.end().catch(() => {})
    if (!closed) schedule()
  }

  function schedule(): void {
    // Jitter, so that every node of a restarted server does not come back in the same millisecond.
    const delay = backoff / 2 + Math.random() * (backoff / 2)
    backoff = Math.min(backoff * 2, maxBackoff)
    retry = setTimeout(async () => {
      try {
        await connect()
        backoff = minBackoff
        for (const channel of subscribers.keys()) deliver(channel, null)
      } catch (err) {
        onError(err as Error)
        if (!closed) schedule()
      }
    }, delay)
    retry.unref()
  }

  await connect()
  return {
    async onNotify(channel, cb) {
      let set = subscribers.get(channel)
      if (set === undefined) {
        set = new Set()
        subscribers.set(channel, set)
        // If the session drops meanwhile, the reconnect listens to every subscribed channel.
        if (client !== null) await client.query(`LISTEN ${quote(channel)}`).catch(onError)
      }
      set.add(cb)
      return () => {
        set.delete(cb)
      }
    },
    isConnected: () => client !== null,
    async close() {
      closed = true
      clearTimeout(retry)
      const c = client
      client = null
      await c?.end().catch(() => {})
    },
  }
}
