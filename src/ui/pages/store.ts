// Store: namespaces, a namespace's entries (key order, paged), and full-text search with snippets.
import { html, type Html } from '../html.ts'
import { page } from '../layout.ts'
import { ok, uiGet, type UiRoute } from '../route.ts'
import { isoTime } from '../format.ts'
import { searchTerms } from '../../domain/search.ts'
import { tokensOf } from '../../domain/fts5-tokens.ts'
import type { EntryRow, HitRow } from '../../store/types.ts'

const NAMESPACES = 200
const ENTRIES = 50
const HITS = 25
/** Values longer than this are cut in the list (the API returns them whole). */
const VALUE_CHARS = 400

export const storeRoutes: UiRoute[] = [
  uiGet('store', async (req, app) => {
    const { reads } = app.driver
    const ns = req.query.get('ns') || undefined
    const q = req.query.get('q') ?? ''
    const after = req.query.get('after') || null
    const terms = searchTerms(q)
    const searchable = terms !== null && terms.some((t) => tokensOf(t).length > 0)
    const [namespaces, entries, hits] = await Promise.all([
      reads.namespaces(null, NAMESPACES),
      ns === undefined || terms !== null ? Promise.resolve([] as EntryRow[]) : reads.entries(ns, after, ENTRIES + 1),
      searchable ? reads.search({ terms: terms!, namespace: ns, limit: HITS }) : Promise.resolve([] as HitRow[]),
    ])
    const shown = entries.slice(0, ENTRIES)
    const next = entries.length > ENTRIES ? shown[shown.length - 1].key : null
    return ok(page({ ...req.frame, title: 'Store', section: 'store', isLive: false }, html`
<h1>Store</h1>
<form class="filters" method="get" action="/ui/store" role="search">
  <label>Namespace <select name="ns"><option value="">all</option>${namespaces.map((n) => html`<option${n === ns ? html` selected` : ''}>${n}</option>`)}</select></label>
  <label>Search <input name="q" type="search" value="${q}" size="30"></label>
  <button type="submit">Show</button>
</form>
${terms !== null ? searchResults(q, hits, searchable) : ns !== undefined ? entryList(ns, shown, next) : html`
<h2>Namespaces</h2>
${namespaces.length === 0 ? html`<p>The store is empty.</p>` : html`<ul>${namespaces.map((n) => html`<li><a href="/ui/store?${String(new URLSearchParams({ ns: n }))}">${n}</a></li>`)}</ul>`}
${namespaces.length === NAMESPACES ? html`<p class="muted">The first ${NAMESPACES} namespaces.</p>` : ''}`}`))
  }),
]

function entryList(ns: string, entries: EntryRow[], next: string | null): Html {
  return html`<h2>Entries of ${ns}</h2>
${entries.length === 0 ? html`<p>No entries.</p>` : html`<table><thead><tr><th scope="col">Key</th><th scope="col">Value</th><th scope="col">Updated</th></tr></thead>
<tbody>${entries.map((e) => html`<tr><td><code>${e.key}</code></td><td><code>${cut(e.value_json)}</code></td><td>${isoTime(e.updated_at_ms)}</td></tr>`)}</tbody></table>`}
${next === null ? '' : html`<p><a href="/ui/store?${String(new URLSearchParams({ ns, after: next }))}" rel="next">Next page</a></p>`}`
}

function searchResults(q: string, hits: HitRow[], searchable: boolean): Html {
  return html`<h2>Search: ${q}</h2>
${!searchable || hits.length === 0 ? html`<p>No matches.</p>` : html`<table><thead><tr><th scope="col">Namespace</th><th scope="col">Key</th><th scope="col">Snippet</th></tr></thead>
<tbody>${hits.map((h) => html`<tr><td>${h.namespace}</td><td><code>${h.key}</code></td><td>${highlighted(h.snippet)}</td></tr>`)}</tbody></table>`}`
}

/** The store's snippets mark matches with `**`; they become <mark>, everything else stays text. */
function highlighted(snippet: string): Html[] {
  return snippet.split('**').map((part, i) => (i % 2 === 1 ? html`<mark>${part}</mark>` : html`${part}`))
}

function cut(text: string): string {
  return text.length <= VALUE_CHARS ? text : `${text.slice(0, VALUE_CHARS)}…`
}
