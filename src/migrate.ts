// `npm run migrate -- --from ./docket.db --to postgres://…`: copies a SQLite database into an empty
// PostgreSQL one (src/store/copy.ts), so a team that outgrows one machine keeps its tasks, runs and leases.
import Database from 'better-sqlite3'
import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { stderrLog as log } from './log.ts'
import { copySqliteToPostgres, CopyRefused } from './store/copy.ts'
import { openPool } from './store/postgres/connect.ts'
import { migrate } from './store/postgres/migrate.ts'
import { describePgTarget, isPostgresUrl, pgTarget } from './store/postgres/url.ts'
import { migrate as migrateSqlite } from './store/sqlite/db.ts'

const USAGE = `Usage: npm run migrate -- --from PATH --to URL
  --from PATH   the SQLite database to copy (a running server may keep serving it: it is read in one snapshot)
  --to URL      postgres://user:pass@host:port/db, empty (its schema is created); the copy is one transaction`

function usage(message: string): never {
  process.stderr.write(`docket migrate: ${message}\n${USAGE}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  let values
  try {
    ({ values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { from: { type: 'string' }, to: { type: 'string' }, help: { type: 'boolean' } } }))
  } catch (err) {
    usage((err as Error).message)
  }
  if (values.help) return void process.stdout.write(`${USAGE}\n`)
  const { from, to } = values
  if (from === undefined || to === undefined) usage('give both --from and --to')
  if (!existsSync(from)) usage(`no database at ${from}`)
  if (!isPostgresUrl(to)) usage('--to must be a postgres:// or postgresql:// URL')
  const where = describePgTarget(pgTarget(to))

  // The source must be at this Docket's schema: an older file is brought up to date first (as a start would).
  const upgrade = new Database(from, { fileMustExist: true, timeout: 5000 })
  migrateSqlite(upgrade)
  upgrade.close()
  const source = new Database(from, { readonly: true, fileMustExist: true, timeout: 5000 })
  const pool = await openPool(to, { size: 2, onError: (err) => log.error('PostgreSQL connection failed', err) })
  try {
    await migrate(pool)
    const started = performance.now()
    const report = await copySqliteToPostgres(source, pool, (table, rows) => log.info(`copied ${table}: ${rows} rows`))
    const total = report.reduce((n, t) => n + t.rows, 0)
    process.stdout.write(`copied ${from} to ${where}: ${total} rows in ${report.length} tables, counts verified, in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
  } finally {
    source.close()
    await pool.end()
  }
}

main().catch((err) => {
  process.stderr.write(`docket migrate: ${(err as Error).message}\n`)
  process.exit(err instanceof CopyRefused ? 2 : 1)
})
