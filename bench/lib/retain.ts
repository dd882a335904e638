import { createRequire } from 'node:module'
import Database from 'better-sqlite3'

/**
 * Keeps every better-sqlite3 Statement and Database of this process reachable until it exits.
 *
 * Node 24.19 gave node::ObjectWrap a per-object environment cleanup hook; better-sqlite3 12.x, built against
 * those headers, removes that hook in its destructors, which run from V8 weak callbacks where no context is
 * entered, so `Assertion failed: (env) != nullptr` aborts the process whenever the GC collects a Statement
 * (db.pragma() makes one per call) or a Database (nodejs/node#65446). The bench's own SQLite work runs in
 * short-lived child processes that import this first, so nothing of theirs is ever collected; with
 * --retain-statements the runner preloads it into Docket too.
 */
const retained: unknown[] = []
const require = createRequire(import.meta.url)
const { version } = require('better-sqlite3/package.json') as { version: string }

// better-sqlite3 13 moved to node-addon-api and no longer aborts: nothing to do there.
if (Number(version.split('.')[0]) < 13) {
  const { cppdb } = require('better-sqlite3/lib/util') as { cppdb: symbol }
  const probe = new Database(':memory:') as unknown as Record<symbol, object>
  const native = Object.getPrototypeOf(probe[cppdb]) as { prepare(this: object, ...args: unknown[]): unknown }
  const prepare = native.prepare
  native.prepare = function (this: object, ...args: unknown[]) {
    const statement = prepare.apply(this, args)
    retained.push(statement, this)
    return statement
  }
  retained.push(probe)
}
