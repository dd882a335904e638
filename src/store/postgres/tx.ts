// A write's transaction on one pooled connection, begun only when a statement needs it. A change whose
// first statement may stand alone (Statement.alone: a claim, a hinted transition, a heartbeat, an event)
// runs it without BEGIN and COMMIT, committed as it returns: one round trip where a transaction takes
// three. Each statement is atomic by itself, so this is the same as a transaction holding that statement
// only; a change that goes on after it (it wrote nothing, as a claim that must reap first) begins a
// transaction for the rest, and does not rely on the rows its first statement locked (they were released
// with its commit).
//
// Isolation is READ COMMITTED either way: every pooled connection sets it as its session default
// (connect.ts), so a statement run alone gets it too, whatever the server's default is.
import type pg from 'pg'

export type QueryConfig = { name: string; text: string; values: unknown[] }

export class Tx {
  readonly client: pg.PoolClient
  /** Wake-ups for every node's waiters, sent once this transaction has committed (wakes.ts, context.ts). */
  readonly wakes = new Set<string>()
  #begun = false

  constructor(client: pg.PoolClient) {
    this.client = client
  }

  /** Begins the transaction now (a change need not: its first statement that needs it does). */
  async begin(): Promise<void> {
    if (this.#begun) return
    this.#begun = true
    await this.client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
  }

  /** A statement inside the transaction (begun first if it has not been). */
  async query<R extends pg.QueryResultRow>(config: QueryConfig): Promise<pg.QueryResult<R>> {
    if (!this.#begun) await this.begin()
    return this.client.query<R>(config)
  }

  /**
   * A statement alone, committed as it returns, if the transaction has not begun (alone: true); else inside it.
   * Only for a statement whose effects may commit without the rest of its change: it is the change's last,
   * or writes nothing when the change goes on.
   */
  async alone<R extends pg.QueryResultRow>(config: QueryConfig): Promise<{ result: pg.QueryResult<R>; alone: boolean }> {
    if (this.#begun) return { result: await this.client.query<R>(config), alone: false }
    return { result: await this.client.query<R>(config), alone: true }
  }

  /** Commits what the transaction wrote, if it began. */
  async commit(): Promise<void> {
    if (this.#begun) await this.client.query('COMMIT')
  }

  /** Rolls back, if the transaction began (errors ignored: the connection may be gone). */
  async rollback(): Promise<void> {
    if (this.#begun) await this.client.query('ROLLBACK').catch(() => {})
  }
}
