// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/): a bounds-checked reader over
// one buffer. Embedded messages are read in place by narrowing `end`, so nothing is copied or allocated per
// message; every read past `end` throws ProtobufError.

export const VARINT = 0
export const FIXED64 = 1
export const BYTES = 2
export const FIXED32 = 5

export class ProtobufError extends Error {}

export class Reader {
  buf: Buffer
  pos = 0
  end: number

  constructor(buf: Buffer) {
    this.buf = buf
    this.end = buf.length
  }

  more(): boolean {
    return this.pos < this.end
  }

  /** A field tag; field number 0 and the group wire types (3, 4) never occur in OTLP and mean garbage. */
  tag(): number {
    const tag = this.varint()
    const wireType = tag & 7
    if (tag >>> 3 === 0 || wireType === 3 || wireType === 4 || wireType > 5) {
      throw new ProtobufError(`invalid tag ${tag} at byte ${this.pos}`)
    }
    return tag
  }

  /** A varint's low 32 bits as an unsigned number (enums and counts are at most 32 bits wide). */
  varint(): number {
    const buf = this.buf
    let result = 0
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw truncated()
      const b = buf[this.pos++]
      if (shift < 32) result |= (b & 0x7f) << shift
      if (b < 0x80) return result >>> 0
    }
    throw new ProtobufError('varint longer than 10 bytes')
  }

  /** A signed int64 varint: a number when it is exact, else its decimal text. */
  int64(): number | string {
    const start = this.pos
    let n = 0
    let mul = 1
    for (;;) {
      if (this.pos >= this.end) throw truncated()
      const b = this.buf[this.pos++]
      n += (b & 0x7f) * mul
      if (b < 0x80) break
      mul *= 128
      if (this.pos - start >= 10) throw new ProtobufError('varint longer than 10 bytes')
    }
    if (this.pos - start <= 7) return n // at most 49 bits: exact as a double
    let big = 0n
    for (let i = this.pos - 1; i >= start; i--) big = (big << 7n) | BigInt(this.buf[i] & 0x7f)
    big = BigInt.asIntN(64, big)
    const small = Number(big)
    return Number.isSafeInteger(small) ? small : big.toString()
  }

  fixed64(): bigint {
    this.need(8)
    const value = this.buf.readBigUInt64LE(this.pos)
    this.pos += 8
    return value
  }

  fixed32(): number {
    this.need(4)
    const value = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return value
  }

  double(): number {
    this.need(8)
    const value = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return value
  }

  /** A length-delimited field as a view into the body (no copy). */
  bytes(): Buffer {
    const len = this.length()
    const start = this.pos
    this.pos += len
    return this.buf.subarray(start, this.pos)
  }

  string(): string {
    const len = this.length()
    const start = this.pos
    this.pos += len
    return this.buf.toString('utf8', start, this.pos)
  }

  /** Enters an embedded message; returns the outer end, which `leave` restores. */
  enter(): number {
    const len = this.length()
    const outer = this.end
    this.end = this.pos + len
    return outer
  }

  leave(outer: number): void {
    this.pos = this.end
    this.end = outer
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case VARINT: this.varint(); break
      case FIXED64: this.need(8); this.pos += 8; break
      case BYTES: { const len = this.length(); this.pos += len; break } // not `pos += length()`: pos is read first
      case FIXED32: this.need(4); this.pos += 4; break
      default: throw new ProtobufError(`cannot skip wire type ${tag & 7}`)
    }
  }

  private length(): number {
    const len = this.varint()
    this.need(len)
    return len
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw truncated()
  }
}

function truncated(): ProtobufError {
  return new ProtobufError('truncated message')
}
