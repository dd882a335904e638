/** What a handler answers: a status and, unless 204, a JSON text. Turned into a Response in one place. */
export type Reply = { status: number; body: string | null; headers?: Record<string, string> }

export function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) }
}

/** A reply whose JSON text was already built (serializers splice stored JSON in without re-parsing it). */
export function rawJson(status: number, text: string): Reply {
  return { status, body: text }
}

/** A non-JSON answer (OTLP protobuf). Never recorded for Idempotency-Key replays: build it from a JSON Reply. */
export type BinaryReply = { status: number; body: Uint8Array<ArrayBuffer>; headers: Record<string, string> }

export function binary(status: number, body: Uint8Array<ArrayBuffer>, contentType: string): BinaryReply {
  return { status, body, headers: { 'content-type': contentType } }
}

export function noContent(): Reply {
  return { status: 204, body: null }
}

/** A Response made elsewhere, sent as it is (the MCP SDK's answers at /mcp: JSON-RPC, maybe a stream). */
export type ResponseReply = { response: Response }

export type AnyReply = Reply | BinaryReply | ResponseReply
