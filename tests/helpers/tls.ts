// Certificates made with the openssl CLI for the TLS tests, and an HTTPS client that presents them.
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { join } from 'node:path'
import type { Res } from './server.ts'

/** Paths of PEM files: a certificate and its key. */
export type KeyPair = { cert: string; key: string }

/**
 * Two unrelated CAs. `ca` issued the server's certificate (127.0.0.1 and localhost) and `client`; `otherCa`
 * issued `otherClient`, whose subject is the same as `client`'s so that only the issuer tells them apart.
 */
export type Pki = { ca: KeyPair; server: KeyPair; client: KeyPair; otherCa: KeyPair; otherClient: KeyPair }

/** What an HTTPS client trusts and presents: PEM contents. */
export type ClientTls = { ca: Buffer; cert?: Buffer; key?: Buffer }

export function makePki(dir: string): Pki {
  const ca = authority(dir, 'ca')
  const otherCa = authority(dir, 'other-ca')
  return {
    ca,
    otherCa,
    server: issue(dir, 'server', ca, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'),
    client: issue(dir, 'client', ca, 'extendedKeyUsage=clientAuth', 'agent-1'),
    otherClient: issue(dir, 'other-client', otherCa, 'extendedKeyUsage=clientAuth', 'agent-1'),
  }
}

/** The client side of a test: trusts `pki.ca`, and presents `pair` if given. */
export function clientTls(pki: Pki, pair?: KeyPair): ClientTls {
  const ca = readFileSync(pki.ca.cert)
  return pair === undefined ? { ca } : { ca, cert: readFileSync(pair.cert), key: readFileSync(pair.key) }
}

/** One request on a fresh connection; rejects when the handshake or the connection fails. */
export function httpsRequest(base: string, tls: ClientTls, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const { hostname, port } = new URL(base)
  const raw = body === undefined || typeof body === 'string' ? body : JSON.stringify(body)
  return new Promise((resolve, reject) => {
    const req = https.request({ host: hostname, port, path, method, headers, agent: false, ...tls }, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8')
        let parsed: unknown
        try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
        const resHeaders = new Headers()
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) resHeaders.set(k, String(v))
        resolve({ status: res.statusCode!, headers: resHeaders, text, body: parsed })
      })
    })
    req.on('error', reject)
    req.end(raw)
  })
}

function authority(dir: string, name: string): KeyPair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
  openssl(dir, ['req', '-x509', ...newKey(pair.key), '-out', pair.cert, '-days', '2', '-subj', `/CN=Docket test ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign'])
  return pair
}

let serial = 1
function issue(dir: string, name: string, ca: KeyPair, extensions: string, commonName = name): KeyPair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) }
  const csr = join(dir, `${name}.csr`)
  const ext = join(dir, `${name}.ext`)
  writeFileSync(ext, `${extensions}\n`)
  openssl(dir, ['req', '-new', ...newKey(pair.key), '-out', csr, '-subj', `/CN=${commonName}`])
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', String(serial++), '-days', '2', '-out', pair.cert, '-extfile', ext])
  return pair
}

const newKey = (keyPath: string) => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath]

function openssl(cwd: string, args: string[]): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: 'pipe' })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer }
    if (e.code === 'ENOENT') throw new Error('the TLS tests need the openssl command (apt-get install openssl)')
    throw new Error(`openssl ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`)
  }
}
