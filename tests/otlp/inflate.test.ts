import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { inflate } from '../../src/otlp/decode.ts'
import { AppError } from '../../src/domain/errors.ts'

const test = suite('otlp inflate')

const COMPRESS = { gzip: gzipSync, 'x-gzip': gzipSync, deflate: deflateSync, br: brotliCompressSync }
const LIMIT = 64 * 1024

async function errorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise
  } catch (err) {
    assert.instance(err, AppError)
    return err as AppError
  }
  throw new Error('expected an AppError')
}

test('every supported Content-Encoding inflates, across several output chunks, up to the limit exactly', async () => {
  const plain = Buffer.from(Array.from({ length: LIMIT }, (_, i) => (i * 7919) % 251))
  for (const [name, compress] of Object.entries(COMPRESS)) {
    assert.equal(await inflate(compress(plain), name, LIMIT), plain, name)
    assert.equal(await inflate(compress(plain), ` ${name.toUpperCase()} `, LIMIT), plain, `${name}, case and spaces`)
  }
})

test('identity and no Content-Encoding give the body back as it is', async () => {
  const body = Buffer.from('as it is')
  assert.is(await inflate(body, null, LIMIT), body)
  assert.is(await inflate(body, 'identity', LIMIT), body)
})

test('output past the limit is 413 payload_too_large, whatever the encoding', async () => {
  const big = Buffer.alloc(LIMIT + 1)
  for (const [name, compress] of Object.entries(COMPRESS)) {
    const err = await errorOf(inflate(compress(big), name, LIMIT))
    assert.equal([err.status, err.code], [413, 'payload_too_large'], name)
  }
})

test('bytes that are not of the named encoding are 400 invalid_encoding', async () => {
  for (const name of Object.keys(COMPRESS)) {
    const err = await errorOf(inflate(Buffer.from('not compressed at all'), name, LIMIT))
    assert.equal([err.status, err.code], [400, 'invalid_encoding'], name)
  }
})

test.run()
