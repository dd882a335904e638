import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import Database from 'better-sqlite3'

export type MachineFacts = {
  cpu_model: string
  cores: number
  ram_gib: number
  kernel: string
  node_version: string
  sqlite_version: string
  better_sqlite3_version: string
  load_average_at_start: number[]
  date: string
}

/** What a reader needs to compare one run with another (numbers from different machines are not comparable). */
export function machineFacts(): MachineFacts {
  const db = new Database(':memory:')
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string
  db.close()
  const require = createRequire(import.meta.url)
  const bsqlite = (require('better-sqlite3/package.json') as { version: string }).version
  return {
    cpu_model: cpuModel(),
    cores: availableParallelism(),
    ram_gib: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    node_version: process.version,
    sqlite_version: sqlite,
    better_sqlite3_version: bsqlite,
    load_average_at_start: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  }
}

function cpuModel(): string {
  const model = cpus()[0]?.model ?? 'unknown'
  try {
    // Some VMs report only the vendor in os.cpus(); /proc/cpuinfo may say more.
    const line = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]
    return line && line.length > model.length ? line : model
  } catch {
    return model
  }
}
