// POST /mcp: Docket's tools for MCP clients (src/mcp/). The API token applies as on every route; bound to
// loopback, the Host and Origin headers must name loopback too (a web page cannot reach it by DNS rebinding).
import { validateHostHeader, validateOriginHeader } from '@modelcontextprotocol/server'
import { post, type Route } from '../route.ts'
import { parseJsonObject } from '../validate.ts'
import { AppError } from '../../domain/errors.ts'

export const mcpRoutes: Route[] = [
  post('/mcp', async (input, app) => {
    const allowed = app.config.loopbackHosts
    if (allowed !== null) {
      const host = validateHostHeader(input.headers.get('host'), allowed)
      if (!host.ok) throw new AppError('forbidden_host', 403, host.message)
      const origin = validateOriginHeader(input.headers.get('origin'), allowed)
      if (!origin.ok) throw new AppError('forbidden_origin', 403, origin.message)
    }
    // Not JSON at all: Docket's own 400, before the SDK answers JSON-RPC.
    const parsed = parseJsonObject(input.body)
    // A fixed URL: the Host header (checked above, or any when not bound to loopback) must not make it invalid.
    const request = new Request('http://docket.local/mcp', {
      method: 'POST', headers: input.headers, body: input.body!.toString('utf8'), signal: input.signal,
    })
    return { response: await app.mcp.fetch(request, parsed) }
  }),
]
