import { AppError } from '../domain/errors.ts'

/** Reads a request body up to `limit` bytes; larger (declared or streamed, chunked included) → 413. */
export async function readBody(request: Request, limit: number): Promise<Buffer> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit)
  if (request.body === null) return Buffer.alloc(0)
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = request.body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      // Release, never cancel: cancelling destroys the socket before the 413 is written (the client
      // sees a reset). The adapter discards the unread rest and `connection: close` ends the exchange.
      reader.releaseLock()
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  return chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks)
}

export function tooLarge(limit: number): AppError {
  // The rest of an oversized body is not read: closing the connection is the clean way out.
  return new AppError('payload_too_large', 413, `Request body exceeds ${limit} bytes`, undefined, { connection: 'close' })
}
