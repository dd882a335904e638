import { readFileSync } from 'node:fs'
import { get, withAccess, type Route } from '../route.ts'
import { json, rawJson } from '../reply.ts'
import { authMode } from '../../domain/auth.ts'

// The file is kept readable; the wire gets compact JSON like every other answer.
const OPENAPI = JSON.stringify(JSON.parse(readFileSync(new URL('../../../openapi.json', import.meta.url), 'utf8')))

export const metaRoutes: Route[] = [
  withAccess(get('/health', async (_input, app) => json(200, {
    status: 'ok',
    version: app.config.version,
    ...await app.driver.reads.health(app.clock.now()),
    auth: authMode(app.config.token, app.config.mtls),
  })), 'public'),
  withAccess(get('/openapi.json', () => rawJson(200, OPENAPI)), 'public'),
  withAccess(get('/.well-known/openapi.json', () => rawJson(200, OPENAPI)), 'public'),
]
