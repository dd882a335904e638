// The stdio bridge: `npm run mcp -- --url http://127.0.0.1:7700 [--token T] [--agent ID] [--role ROLE]`, for
// MCP clients that launch a command. It calls a running Docket over HTTP and never opens the database (a
// second process on a SQLite file would be a second writer that never sees the server's waiting claims).
// One process is one agent: its lease tokens live in this process's lease book.
import { parseArgs } from 'node:util'
import { hostname } from 'node:os'
import { serveStdio } from '@modelcontextprotocol/server/stdio'
import { httpApi } from './api.ts'
import { createLeaseBook } from './lease-book.ts'
import { buildMcpServer } from './server.ts'
import { parseToolsets, type McpSession } from './session.ts'
import { stderrLog as log } from '../log.ts'
import { systemClock } from '../clock.ts'
import { VERSION } from '../version.ts'

const USAGE = `Usage: npm run mcp -- [options]      (or npx docket-mcp …)
  --url URL          the running Docket to call (default http://127.0.0.1:7700; env DOCKET_URL)
  --token T          its API token, if it has one (env DOCKET_TOKEN)
  --agent ID         the agent id this process claims as (default docket-mcp-<host>-<pid>; env DOCKET_AGENT)
  --role ROLE        the role claim_task uses when given none (env DOCKET_ROLE)
  --toolsets LIST    agent (default) or agent,admin for the operator tools (env DOCKET_MCP_TOOLSETS)
  --help, --version`

function sessionFromArgs(argv: string[], env: NodeJS.ProcessEnv): McpSession | null {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      url: { type: 'string' }, token: { type: 'string' }, agent: { type: 'string' }, role: { type: 'string' },
      toolsets: { type: 'string' }, help: { type: 'boolean' }, version: { type: 'boolean' },
    },
  })
  if (values.help) return void process.stdout.write(`${USAGE}\n`), null
  if (values.version) return void process.stdout.write(`docket-mcp ${VERSION}\n`), null
  const url = values.url ?? env.DOCKET_URL ?? 'http://127.0.0.1:7700'
  if (!/^https?:\/\/[^/]/.test(url)) throw new Error(`--url must be an http:// or https:// URL, not ${url}`)
  return {
    api: httpApi(url, values.token ?? env.DOCKET_TOKEN ?? null),
    book: createLeaseBook(() => systemClock.now()),
    agentId: values.agent ?? env.DOCKET_AGENT ?? `docket-mcp-${hostname()}-${process.pid}`,
    defaultRole: values.role ?? env.DOCKET_ROLE ?? null,
    toolsets: parseToolsets(values.toolsets ?? env.DOCKET_MCP_TOOLSETS),
    log,
  }
}

let session: McpSession | null
try {
  session = sessionFromArgs(process.argv.slice(2), process.env)
} catch (err) {
  process.stderr.write(`docket-mcp: ${(err as Error).message}\n${USAGE}\n`)
  process.exit(2)
}
if (session !== null) {
  const s = session
  // stdout is the protocol: everything else goes to stderr.
  log.info(`docket-mcp ${VERSION}: agent ${s.agentId} on stdio`)
  serveStdio(() => buildMcpServer(s), { onerror: (err) => log.error('docket-mcp: stdio error', err) })
}
