import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'

const LEASE_TOKEN = /^[0-9a-fA-F]{64}$/

export type IssuedToken = { token: string; hash: Buffer }

/** A lease token is 32 random bytes shown as 64 hex; only SHA-256 of the raw bytes is stored. */
export function issueLeaseToken(): IssuedToken {
  const raw = randomBytes(32)
  return { token: raw.toString('hex'), hash: sha256(raw) }
}

/** Hash of a presented lease token, or null when it is not exactly 64 hex characters. */
export function leaseTokenHash(token: string): Buffer | null {
  return LEASE_TOKEN.test(token) ? sha256(Buffer.from(token, 'hex')) : null
}

/** Constant-time equality of two secrets of any length: both are hashed first. */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(Buffer.from(a)), sha256(Buffer.from(b)))
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

export function sha256(data: Buffer | Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest()
}
