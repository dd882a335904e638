// The console's static files, read once at start and served under versioned URLs (cached for a year):
// htmx from node_modules (no CDN, no build step), and the console's own script and stylesheet.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { sha256 } from '../domain/token.ts'

type Asset = { path: string; body: string; contentType: string }

const require = createRequire(import.meta.url)
const htmxVersion = (require('htmx.org/package.json') as { version: string }).version
const own = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8')
const versioned = (name: string, ext: string, body: string) => `/ui/assets/${name}-${sha256(body).toString('hex').slice(0, 12)}.${ext}`

const htmxBody = readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8')
const scriptBody = own('console.js')
const styleBody = own('console.css')

export const HTMX: Asset = { path: `/ui/assets/htmx-${htmxVersion}.js`, body: htmxBody, contentType: 'text/javascript; charset=utf-8' }
export const SCRIPT: Asset = { path: versioned('console', 'js', scriptBody), body: scriptBody, contentType: 'text/javascript; charset=utf-8' }
export const STYLE: Asset = { path: versioned('console', 'css', styleBody), body: styleBody, contentType: 'text/css; charset=utf-8' }

export const ASSETS: ReadonlyMap<string, Asset> = new Map([HTMX, SCRIPT, STYLE].map((a) => [a.path, a]))
