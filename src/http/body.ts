import type { IncomingMessage } from 'node:http'
import { AppError } from '../domain/errors.ts'

/**
 * Reads a request body up to `limit` bytes; larger (declared or streamed, chunked included) → 413.
 * It reads the node request directly: going through the fetch Request's web stream costs several times more.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(limit))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size <= limit) return void chunks.push(chunk)
      // Stop collecting but let the rest flow away: destroying the socket would lose the 413 itself.
      done()
      reject(tooLarge(limit))
    }
    const onEnd = () => {
      done()
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size))
    }
    const onError = (err: NodeJS.ErrnoException) => {
      done()
      // The connection closed mid-body (the client left, or the request timeout cut it off): nobody is
      // left to answer, and it is no server error to log.
      reject(err.code === 'ECONNRESET' ? new AppError('request_aborted', 400, 'The connection closed before the body arrived') : err)
    }
    const done = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

export function tooLarge(limit: number): AppError {
  // The rest of an oversized body is not read: closing the connection is the clean way out.
  return new AppError('payload_too_large', 413, `Request body exceeds ${limit} bytes`, undefined, { connection: 'close' })
}
