// An OTLP/HTTP trace export body → spans: undo Content-Encoding within the body limit, then decode by
// Content-Type. JSON that does not parse is a 400; protobuf that does not decode, and any other content
// type, is kept as a blob (nullTickets keeps every non-JSON body that way), the protobuf one with the reason
// it did not decode (the route answers it 400).
import * as zlib from 'node:zlib'
import { AppError } from '../domain/errors.ts'
import { tooLarge } from '../http/body.ts'
import { parseJsonObject } from '../http/validate.ts'
import { decodeJson } from './json.ts'
import { decodeProtobuf } from './protobuf.ts'
import { ProtobufError } from './wire.ts'
import type { DecodedSpans } from './span.ts'

export type Decoded =
  | { stored: 'json' | 'protobuf'; contentType: string; result: DecodedSpans }
  | { stored: 'blob'; contentType: string; blob: Buffer; invalid: string | null }

export const JSON_TYPE = 'application/json'
export const PROTOBUF_TYPE = 'application/x-protobuf'
const PROTOBUF_TYPES = new Set([PROTOBUF_TYPE, 'application/protobuf'])

type Inflate = (buf: Buffer, options: zlib.ZlibOptions) => Buffer
const INFLATERS: Record<string, Inflate> = {
  gzip: zlib.gunzipSync,
  'x-gzip': zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
}
// Each call makes a zlib engine whose native handle (it carries JS properties) survives every young-generation
// GC, so the engine and what it references stay until the next full GC, which V8 starts late for memory outside
// its heap (after 40–60 MB here). The async one-shot calls kept the output twice (its chunks and the resolved
// result): ≈ 300 KB per 512-span export, RSS +45–60 MB within seconds of gzip ingest. The sync calls keep only the
// engine's output buffer, and one of 32 KiB is its own allocation where a smaller one is a slice pinning a 64 KiB
// Buffer pool slab. Inflating on the main thread costs less than the decode of the same bytes that follows it
// (≈ 0.1 ms per 110 KB body) and saves the thread-pool round trips.
const CHUNK_BYTES = 32 * 1024

/** The media type without parameters, lower-cased; absent means protobuf, as in nullTickets. */
export function mediaTypeOf(header: string | null): string {
  if (header === null) return PROTOBUF_TYPE
  const semi = header.indexOf(';')
  return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase()
}

/** Decompresses; the output may not exceed `limit` bytes either (a gzip bomb is a 413). */
export async function inflate(body: Buffer, encoding: string | null, limit: number): Promise<Buffer> {
  const name = encoding?.trim().toLowerCase() ?? ''
  if (name === '' || name === 'identity') return body
  const inflater = INFLATERS[name]
  if (inflater === undefined) {
    throw new AppError('unsupported_encoding', 415, `Content-Encoding ${name} is not supported (use gzip, deflate, br or identity)`)
  }
  try {
    return inflater(body, { maxOutputLength: limit, chunkSize: CHUNK_BYTES })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit)
    throw new AppError('invalid_encoding', 400, `Body is not valid ${name} data`)
  }
}

export async function decodeRequest(body: Buffer, headers: Headers, limit: number): Promise<Decoded> {
  const plain = await inflate(body, headers.get('content-encoding'), limit)
  const contentType = mediaTypeOf(headers.get('content-type'))
  if (contentType === JSON_TYPE) {
    const request = parseJsonObject(plain)
    return { stored: 'json', contentType, result: decodeJson(request) }
  }
  if (PROTOBUF_TYPES.has(contentType)) {
    try {
      return { stored: 'protobuf', contentType, result: decodeProtobuf(plain) }
    } catch (err) {
      if (!(err instanceof ProtobufError)) throw err
      return { stored: 'blob', contentType, blob: plain, invalid: err.message }
    }
  }
  return { stored: 'blob', contentType, blob: plain, invalid: null }
}
