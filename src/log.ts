/** One line per event on stderr. Never pass request bodies, tokens or Authorization headers here. */
export type Log = { info(message: string): void; error(message: string, err?: unknown): void }

export const stderrLog: Log = {
  info: (message) => process.stderr.write(`${message}\n`),
  error: (message, err) => process.stderr.write(`${message}${err instanceof Error ? `\n${err.stack}` : err ? ` ${String(err)}` : ''}\n`),
}

export const silentLog: Log = { info: () => {}, error: () => {} }
