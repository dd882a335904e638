// Streamable HTTP at POST /mcp on Docket's own server: the SDK's stateless fetch handler, one MCP server per
// request, whose tools call the API in-process. Lease tokens are kept in this node's memory (one lease book
// per node), keyed by task and agent: an agent's /mcp requests must reach the node that claimed for it.
import { createMcpHandler } from '@modelcontextprotocol/server'
import type { LocalRequest } from '../http/router.ts'
import type { BinaryReply, Reply } from '../http/reply.ts'
import type { Clock } from '../clock.ts'
import type { Log } from '../log.ts'
import { localApi } from './api.ts'
import { createLeaseBook } from './lease-book.ts'
import { buildMcpServer } from './server.ts'
import type { Toolset } from './session.ts'

export const AGENT_HEADER = 'x-docket-agent'
const MAX_AGENT_LENGTH = 512

export type McpEndpoint = ReturnType<typeof createMcpEndpoint>

export function createMcpEndpoint(options: {
  clock: Clock
  log: Log
  apiToken: string | null
  toolsets: ReadonlySet<Toolset>
  callRoute: (r: LocalRequest) => Promise<Reply | BinaryReply>
}) {
  const { clock, log, apiToken, toolsets, callRoute } = options
  const book = createLeaseBook(() => clock.now())
  // The /mcp route has checked the API token: in-process calls carry it on, as a remote client would.
  const handler = createMcpHandler((ctx) => {
    const request = ctx.requestInfo!
    return buildMcpServer({
      api: localApi(callRoute, apiToken, request.signal),
      book,
      agentId: agentOf(request.headers),
      defaultRole: null,
      toolsets,
      log,
    })
  })
  return {
    fetch: (request: Request, parsedBody: unknown) => handler.fetch(request, { parsedBody }),
    close: () => handler.close(),
  }
}

function agentOf(headers: Headers): string | null {
  const agent = headers.get(AGENT_HEADER)?.trim() ?? ''
  return agent === '' ? null : agent.slice(0, MAX_AGENT_LENGTH)
}
