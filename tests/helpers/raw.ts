import http from 'node:http'
import { connect, type Socket } from 'node:net'

export type RawRes = { status: number; headers: http.IncomingHttpHeaders; text: string; body: any; reusedSocket: boolean }

/**
 * A request through node:http, which (unlike fetch) sends exactly the headers given, can stream a chunked
 * body, keeps dot segments, and tells whether a keep-alive socket was reused.
 */
export function rawRequest(url: string, method: string, path: string, options: {
  headers?: Record<string, string>
  chunks?: Array<string | Buffer>
  agent?: http.Agent
} = {}): Promise<RawRes> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    // host/port/path given apart: a URL string would have its dot segments resolved by the client.
    const req = http.request({ host: hostname, port, path, method, headers: options.headers, agent: options.agent ?? false }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        let body: unknown
        try { body = text === '' ? undefined : JSON.parse(text) } catch { body = undefined }
        resolve({ status: res.statusCode!, headers: res.headers, text, body, reusedSocket: req.reusedSocket })
      })
    })
    req.on('error', reject)
    const chunks = options.chunks ?? []
    const writeNext = (i: number): void => {
      if (i === chunks.length) return void req.end()
      // Stop writing once the server has answered (it may close its side after a 413).
      if (req.destroyed || req.writableEnded) return
      if (req.write(chunks[i])) writeNext(i + 1)
      else req.once('drain', () => writeNext(i + 1))
    }
    writeNext(0)
  })
}

/** An open TCP connection that has sent only part of a request. */
export function stalledConnection(url: string, partial: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(partial, () => resolve(socket)))
    socket.on('error', reject)
  })
}
