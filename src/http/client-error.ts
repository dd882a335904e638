// Requests Node answers itself, before any handler runs (too slow, headers too large, not HTTP), answered
// with Docket's error envelope instead of Node's bodiless defaults. Node's 'clientError' event hands over the
// raw socket: there is no response object, so the answer is written as HTTP/1.1 text, then the socket is
// destroyed (the request could not be read to its end, so the connection cannot carry another one).
import { STATUS_CODES, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { errorJson } from '../domain/errors.ts'

type Answer = { status: number; code: string; message: string }

// The statuses Node's own handler (socketOnError in lib/_http_server.js) picks for each error code.
const ANSWERS: Record<string, Answer> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'The request did not arrive within the headers or request timeout' },
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', message: 'The request line and headers are too large' },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: { status: 413, code: 'payload_too_large', message: 'The chunk extensions are too large' },
}
const MALFORMED: Answer = { status: 400, code: 'bad_request', message: 'The request is not valid HTTP/1.1' }

export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Like Node: only into a socket that takes writes and carries no response already begun.
    const current = (socket as Duplex & { _httpMessage?: { headersSent: boolean } })._httpMessage
    if (socket.writable && current?.headersSent !== true && err.code !== 'ECONNRESET') {
      socket.write(rawAnswer(ANSWERS[err.code ?? ''] ?? MALFORMED))
    }
    socket.destroy()
  })
}

function rawAnswer({ status, code, message }: Answer): string {
  const body = errorJson(code, message)
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
}
