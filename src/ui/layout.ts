// The page frame every console page shares: navigation, the live-refresh switch, logout, and the only
// <script> tags (external files: the Content-Security-Policy allows no inline script).
import { html, type Html } from './html.ts'
import { HTMX, SCRIPT, STYLE } from './assets.ts'

export type Frame = {
  title: string
  /** The nav entry to mark as the current page. */
  section: Section | null
  csrf: string
  /** A token is configured: the page offers logout. */
  hasLogin: boolean
  /** The page has a #live region worth refreshing. */
  isLive: boolean
}

export const SECTIONS = [
  ['overview', '/ui/', 'Overview'],
  ['tasks', '/ui/tasks', 'Tasks'],
  ['dead-letters', '/ui/dead-letters', 'Dead letters'],
  ['pipelines', '/ui/pipelines', 'Pipelines'],
  ['store', '/ui/store', 'Store'],
] as const
export type Section = (typeof SECTIONS)[number][0]

export function page(frame: Frame, content: Html): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · Docket</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${STYLE.path}">
<script src="${HTMX.path}" defer></script>
<script src="${SCRIPT.path}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <span class="brand">Docket</span>
  <nav aria-label="Console"><ul>${SECTIONS.map(([key, href, label]) =>
    html`<li><a href="${href}"${key === frame.section ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul></nav>
  <div class="tools">
    ${frame.isLive ? html`<label class="live-switch" hidden><input type="checkbox" id="live-toggle" checked> Live refresh (5 s)</label>` : ''}
    ${frame.hasLogin ? html`<form class="inline" method="post" action="/ui/logout">${csrfField(frame.csrf)}<button type="submit">Log out</button></form>` : ''}
  </div>
</header>
<main id="main">
${content}
</main>
</body>
</html>
`
}

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`
}

/** A short message after an action (fixed texts chosen by the server, never echoed input). */
export function notice(text: string | null): Html {
  return text === null ? html`` : html`<p class="notice" role="status">${text}</p>`
}

export function errorBox(text: string | null): Html {
  return text === null ? html`` : html`<p class="error" role="alert">${text}</p>`
}
