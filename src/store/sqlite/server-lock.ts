import Database from 'better-sqlite3'
import { existsSync, mkdirSync, realpathSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { isBusy } from './failures.ts'

export type ServerLock = { path: string; release(): void }

/**
 * One Docket server per database file: a second one would serve, but its waiting claims would never hear
 * of the first one's writes. The guard is an exclusive lock, taken through SQLite, on `<db>.lock` beside the
 * database: an fcntl lock, so the kernel drops it when the process dies, however it dies (kill -9
 * included), and nothing stale is left to clean up. The file itself stays: deleting a lock file on exit
 * would let a starting server lock an unlinked inode while a third creates a new file. The database file
 * is not locked, so read-only tools and `npm run backup` work beside a running server.
 * Returns null when another process holds the guard.
 */
export function lockDatabaseFile(dbPath: string): ServerLock | null {
  mkdirSync(dirname(resolve(dbPath)), { recursive: true })
  const path = `${existsSync(dbPath) ? realpathSync(dbPath) : resolve(dbPath)}.lock`
  const guard = new Database(path, { timeout: 0 })
  try {
    // In EXCLUSIVE locking mode SQLite keeps the lock its first write transaction takes until it closes;
    // the journal stays in memory, so no second file appears.
    guard.pragma('journal_mode = MEMORY')
    guard.pragma('locking_mode = EXCLUSIVE')
    guard.exec('BEGIN EXCLUSIVE; COMMIT')
  } catch (err) {
    guard.close()
    if (isBusy(err)) return null
    throw err
  }
  return { path, release: () => guard.close() }
}
