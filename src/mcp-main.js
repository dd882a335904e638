#!/usr/bin/env node
// `npm run mcp` and `npx docket-mcp` run this: the Node.js version check (see node-version.js), then the stdio
// bridge. npx puts node_modules/.bin first on PATH, so `node` above is the Node.js 24 npm install brought.
import { requireNode24 } from './node-version.js'

requireNode24('docket-mcp', 'npm run mcp')
import('./mcp/bridge.ts')
