// `npm run backup -- <dest> [--db PATH]`: a consistent copy of a live Docket database.
import Database from 'better-sqlite3'
import { existsSync, renameSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

const ALL_PAGES = 0x7fffffff
const USAGE = `Usage: npm run backup -- <dest> [--db PATH]
  <dest>       file to write; must not exist yet
  --db PATH    database to copy (default ./docket.db; env DOCKET_DB)`

function usage(message: string): never {
  process.stderr.write(`docket backup: ${message}\n${USAGE}\n`)
  process.exit(2)
}

async function main(): Promise<void> {
  let parsed
  try {
    parsed = parseArgs({ args: process.argv.slice(2), strict: true, allowPositionals: true, options: { db: { type: 'string' }, help: { type: 'boolean' } } })
  } catch (err) {
    usage((err as Error).message)
  }
  if (parsed.values.help) return void process.stdout.write(`${USAGE}\n`)
  if (parsed.positionals.length !== 1) usage('give exactly one destination file')
  const dest = parsed.positionals[0]
  const source = parsed.values.db ?? process.env.DOCKET_DB ?? './docket.db'
  if (existsSync(dest)) usage(`${dest} exists; refusing to overwrite it`)
  if (!existsSync(source)) usage(`no database at ${source}`)

  const db = new Database(source, { readonly: true, fileMustExist: true, timeout: 5000 })
  // The copy is made under a temporary name and renamed once checked: `dest` is a whole backup or nothing.
  const partial = join(dirname(dest), `.${basename(dest)}.partial-${process.pid}`)
  try {
    // SQLite's online backup API, all pages in one step: one read transaction, so one consistent snapshot.
    // (In steps, every write by the server in between would restart the copy, maybe forever.) In WAL mode
    // a reader never blocks the server's writers.
    const { totalPages } = await db.backup(partial, { progress: () => ALL_PAGES })
    const copy = new Database(partial, { readonly: true })
    const check = copy.pragma('integrity_check', { simple: true })
    copy.close()
    if (check !== 'ok') throw new Error(`integrity check of the copy failed: ${String(check)}`)
    renameSync(partial, dest)
    process.stdout.write(`backed up ${source} to ${dest} (${totalPages} pages, integrity ok)\n`)
  } catch (err) {
    for (const file of [partial, `${partial}-journal`]) rmSync(file, { force: true })
    throw isFull(err) ? new Error(`no space left for ${dest}; nothing was written there (free space and retry)`) : err
  } finally {
    db.close()
  }
}

const isFull = (err: unknown) => ['SQLITE_FULL', 'ENOSPC'].includes((err as { code?: string }).code ?? '')

main().catch((err) => {
  process.stderr.write(`docket backup: ${(err as Error).message}\n`)
  process.exit(1)
})
