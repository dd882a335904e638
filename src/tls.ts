// The PEM files of --tls-cert, --tls-key and --tls-client-ca, read and checked at startup: a wrong file stops
// Docket with one line instead of failing every handshake later. Node's own checks are not enough for that: a
// client CA file it cannot parse is skipped without a word (every client is then refused), and an empty
// certificate or key file is taken as "none given".
import { readFileSync } from 'node:fs'
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { createSecureContext } from 'node:tls'

export type TlsPaths = { cert?: string; key?: string; clientCa?: string }

/** What the HTTPS server is made with; `clientCa` set means every client must present a certificate it issued. */
export type TlsFiles = { cert: Buffer; key: Buffer; clientCa: Buffer | null }

/** A configuration mistake: the CLI reports it in one line and exits 2. */
export class TlsConfigError extends Error {}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g

/** null without --tls-cert and --tls-key (plain HTTP); otherwise the files' contents, all checked. */
export function loadTls(paths: TlsPaths): TlsFiles | null {
  const { cert, key, clientCa } = paths
  if (cert === undefined && key === undefined) {
    if (clientCa !== undefined) throw new TlsConfigError('--tls-client-ca needs --tls-cert and --tls-key')
    return null
  }
  if (cert === undefined || key === undefined) throw new TlsConfigError('--tls-cert and --tls-key go together: give both')
  const files: TlsFiles = {
    cert: readPem('--tls-cert', cert),
    key: readPem('--tls-key', key),
    clientCa: clientCa === undefined ? null : readPem('--tls-client-ca', clientCa),
  }
  checkCertificates('--tls-cert', cert, files.cert)
  if (files.clientCa !== null) checkCertificates('--tls-client-ca', clientCa!, files.clientCa)
  try {
    createPrivateKey(files.key)
  } catch (err) {
    throw new TlsConfigError(`--tls-key ${key} is not a PEM private key without a passphrase (${(err as Error).message})`)
  }
  try {
    createSecureContext({ cert: files.cert, key: files.key })
  } catch (err) {
    throw new TlsConfigError(`--tls-key ${key} does not fit --tls-cert ${cert} (${(err as Error).message})`)
  }
  return files
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new TlsConfigError(`cannot read ${flag} ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

function checkCertificates(flag: string, path: string, pem: Buffer): void {
  const blocks = pem.toString('latin1').match(PEM_CERTIFICATE) ?? []
  if (blocks.length === 0) throw new TlsConfigError(`${flag} ${path} holds no PEM certificate`)
  for (const block of blocks) {
    try {
      new X509Certificate(block)
    } catch (err) {
      throw new TlsConfigError(`${flag} ${path} holds a certificate that does not parse (${(err as Error).message})`)
    }
  }
}
