// The key-value store: entries, and their search (search.ts). (PostgreSQL driver)
import type pg from 'pg'
import type { PgContext, TxChanges } from './context.ts'
import { statement } from './sql.ts'
import { createSearch } from './search.ts'
import { RECENT_BUCKET, searchVector } from './search-vector.ts'
import type { Reads } from '../driver.ts'
import type { EntryRow } from '../types.ts'

const ENTRY = 'namespace, key, value_json, created_at_ms, updated_at_ms'

// An upsert: created_at_ms is kept; `search` is the entry's vector (search-vector.ts) and its id bucket
// lexeme (recentVector), so the id is taken first (an upsert that updates uses up one, as any would).
const RECENT = (id: string) => `array_to_tsvector(ARRAY['#r' || (${id} / ${RECENT_BUCKET})::text])`
const put = statement('entries_put', `
  INSERT INTO store (id, namespace, key, value_json, created_at_ms, updated_at_ms, search)
  SELECT n.id, $1, $2, $3, $4, $4, $5::tsvector || ${RECENT('n.id')}
  FROM (SELECT nextval(pg_get_serial_sequence('store', 'id')) AS id) n
  ON CONFLICT (namespace, key) DO UPDATE SET value_json = excluded.value_json, updated_at_ms = excluded.updated_at_ms,
    search = $5::tsvector || ${RECENT('store.id')}`)
const remove = statement('entries_delete', 'DELETE FROM store WHERE namespace = $1 AND key = $2')
const removeNamespace = statement('entries_delete_namespace', 'DELETE FROM store WHERE namespace = $1')
const byKey = statement<EntryRow>('entries_get', `SELECT ${ENTRY} FROM store WHERE namespace = $1 AND key = $2`)
// key is COLLATE "C": byte order, as SQLite's BINARY.
const firstPage = statement<EntryRow>('entries_first_page', `SELECT ${ENTRY} FROM store WHERE namespace = $1 ORDER BY key LIMIT $2`)
const nextPage = statement<EntryRow>('entries_next_page',
  `SELECT ${ENTRY} FROM store WHERE namespace = $1 AND key > $2 ORDER BY key LIMIT $3`)

export function entriesChanges(ctx: PgContext): Pick<TxChanges, 'putEntry' | 'deleteEntry' | 'deleteNamespace'> {
  void ctx
  return {
    async putEntry(tx, ns, key, valueJson, nowMs) {
      await put.run(tx, [ns, key, valueJson, nowMs, searchVector(ns, key, valueJson)])
    },
    async deleteEntry(tx, ns, key) {
      await remove.run(tx, [ns, key])
    },
    async deleteNamespace(tx, ns) {
      await removeNamespace.run(tx, [ns])
    },
  }
}

export function entriesReads(pool: pg.Pool, ctx: PgContext): Pick<Reads, 'entry' | 'entries' | 'search'> {
  return {
    entry: (ns, key) => byKey.one(pool, [ns, key]),
    entries: (ns, afterKey, limit) => (afterKey === null ? firstPage.all(pool, [ns, limit]) : nextPage.all(pool, [ns, afterKey, limit])),
    search: createSearch(pool, ctx.clock),
  }
}
