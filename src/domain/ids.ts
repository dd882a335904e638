import { randomFillSync } from 'node:crypto'

// UUIDv7: the leading 48-bit timestamp keeps inserts at the right edge of every B-tree keyed by id,
// and a 12-bit counter keeps ids strictly increasing within one millisecond (and across clock steps back).
let lastMs = -1
let counter = 0
const bytes = Buffer.alloc(16)
// Random bits come from a pool refilled 8 KiB at a time: one CSPRNG call per 1,024 ids, not per id.
const pool = Buffer.alloc(8192)
let poolOffset = pool.length

export function newId(nowMs: number): string {
  if (nowMs > lastMs) {
    lastMs = nowMs
    counter = 0
  } else if (++counter > 0xfff) {
    lastMs += 1
    counter = 0
  }
  if (poolOffset === pool.length) {
    randomFillSync(pool)
    poolOffset = 0
  }
  pool.copy(bytes, 8, poolOffset, poolOffset + 8)
  poolOffset += 8
  bytes.writeUIntBE(lastMs, 0, 6)
  bytes[6] = 0x70 | (counter >> 8)
  bytes[7] = counter & 0xff
  bytes[8] = 0x80 | (bytes[8] & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The millisecond a UUIDv7 from newId was made at (a run id: when its claim ran), or null for another shape. */
export function idTimeMs(id: string): number | null {
  if (id.length !== 36 || id[14] !== '7') return null
  const ms = Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)
  return Number.isSafeInteger(ms) ? ms : null
}
