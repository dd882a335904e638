// ExportTraceServiceResponse (collector/trace/v1/trace_service.proto) in protobuf:
//   1 partial_success: ExportTracePartialSuccess { 1 rejected_spans: int64; 2 error_message: string }
// Full success is the empty message: zero bytes.

export function exportTraceServiceResponse(rejectedSpans: number, errorMessage: string | null): Buffer<ArrayBuffer> {
  if (rejectedSpans === 0 && !errorMessage) return Buffer.alloc(0)
  const inner: number[] = []
  if (rejectedSpans !== 0) inner.push(0x08, ...varint(rejectedSpans))
  if (errorMessage) {
    const text = Buffer.from(errorMessage, 'utf8')
    inner.push(0x12, ...varint(text.length), ...text)
  }
  return Buffer.from([0x0a, ...varint(inner.length), ...inner])
}

// google.rpc.Status (google/rpc/status.proto): 1 code: int32; 2 message: string; 3 details (not sent).
// OTLP/HTTP answers a protobuf request's failures with one; for bad data, 400 and INVALID_ARGUMENT.
export const INVALID_ARGUMENT = 3

export function rpcStatus(code: number, message: string): Buffer<ArrayBuffer> {
  const text = Buffer.from(message, 'utf8')
  return Buffer.from([0x08, ...varint(code), 0x12, ...varint(text.length), ...text])
}

function varint(n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return out
}
