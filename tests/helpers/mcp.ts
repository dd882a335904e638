// MCP clients for tests: the SDK's own Client over Streamable HTTP on a real socket, or over stdio to a
// spawned bridge. Every answer is kept in a transcript, to grep for secrets.
import { join } from 'node:path'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio'
import type { Log } from '../../src/log.ts'
import { leaseTokenHash } from '../../src/domain/token.ts'
import type { TestServer } from './server.ts'
import { NODE } from './process.ts'

const ROOT = new URL('../../', import.meta.url).pathname

export type ToolAnswer = { isError?: boolean; content: Array<{ type: string; text?: string }>; structuredContent?: any }

export type McpClient = {
  client: Client
  /** Calls a tool; the answer is kept in the transcript. */
  tool(name: string, args?: Record<string, unknown>): Promise<ToolAnswer>
  transcript: string[]
  /** What the bridge wrote on stderr (stdio only). */
  stderr(): string
  close(): Promise<void>
}

function wrap(client: Client, stderr: () => string): McpClient {
  const transcript: string[] = []
  return {
    client,
    transcript,
    stderr,
    async tool(name, args = {}) {
      const res = await client.callTool({ name, arguments: args }) as ToolAnswer
      transcript.push(JSON.stringify(res))
      return res
    },
    close: () => client.close(),
  }
}

export async function httpClient(s: TestServer, headers: Record<string, string> = {}): Promise<McpClient> {
  const client = new Client({ name: 'docket-test', version: '1' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`), { requestInit: { headers } }))
  return wrap(client, () => '')
}

/** `npm run mcp -- …` as an MCP client launches it: the bridge as a child process on stdio. */
export async function stdioClient(s: TestServer, args: string[]): Promise<McpClient> {
  const client = new Client({ name: 'docket-test', version: '1' })
  const transport = new StdioClientTransport({ command: NODE, args: [join(ROOT, 'src/mcp-main.js'), '--url', s.url, ...args], cwd: ROOT, stderr: 'pipe' })
  let stderr = ''
  transport.stderr?.on('data', (d) => { stderr += d })
  await client.connect(transport)
  return wrap(client, () => stderr)
}

/** A log that keeps every line (to grep for secrets). */
export function keptLog(): Log & { text(): string } {
  let text = ''
  return {
    info: (m) => { text += `${m}\n` },
    error: (m, err) => { text += `${m} ${err instanceof Error ? err.stack : String(err ?? '')}\n` },
    text: () => text,
  }
}

/** Every 64-hex string in `texts` that is the lease token of some run of the server's database. */
export async function leakedTokens(s: TestServer, texts: string[]): Promise<string[]> {
  const hashes = new Set((await s.sql('SELECT lease_token_hash AS h FROM runs')).map((r: any) => Buffer.from(r.h).toString('hex')))
  const found = texts.flatMap((t) => t.match(/[0-9a-fA-F]{64}/g) ?? [])
  return found.filter((hex) => hashes.has(leaseTokenHash(hex.toLowerCase())!.toString('hex')))
}

export const text = (a: ToolAnswer) => a.content.map((c) => c.text ?? '').join('\n')
