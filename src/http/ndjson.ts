// Exports: `Accept: application/x-ndjson` on a list streams every item it would page through, one JSON
// object a line, read page by page as the client takes them. The stream pulls a page only when the socket
// has taken the last one (highWaterMark 0: @whatwg-node/server writes a chunk, then waits for 'drain'), so a
// slow reader slows the reads and memory holds about one page whatever the export's size.
import type { App } from '../app.ts'
import type { ResponseReply } from './reply.ts'

export const NDJSON_TYPE = 'application/x-ndjson'

/** Rows per read; a page's lines go out as one chunk. */
export const EXPORT_PAGE = 500

export function wantsNdjson(headers: Headers): boolean {
  return headers.get('accept')?.toLowerCase().includes(NDJSON_TYPE) === true
}

/** A list read as pages: limit + 1 rows after a cursor (the extra one says there is more), as every Reads list. */
export type Pages<Row, Cursor> = {
  read(after: Cursor | null, limit: number): Promise<Row[]>
  cursorOf(row: Row): Cursor
  lineOf(row: Row): string
}

/**
 * The export of `pages` from `start`. The first page is read before the answer starts, so a failure there is
 * an ordinary JSON error with its status. A read that fails later cannot change the status any more: it is
 * logged and the response is aborted (the connection is reset before the chunked body's end), so a client
 * never takes a cut export for a whole one. Each later page waits, as every GET does before it reads (router.ts),
 * for writes already answered to be committed, so it never reads a batch that may still roll back.
 */
export async function ndjsonReply<Row, Cursor>(pages: Pages<Row, Cursor>, start: Cursor | null, app: Pick<App, 'log' | 'driver'>): Promise<ResponseReply> {
  const encoder = new TextEncoder()
  let rows: Row[] | null = await pages.read(start, EXPORT_PAGE)
  let after: Cursor | null = start
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const page: Row[] = rows ?? await app.driver.settled().then(() => pages.read(after, EXPORT_PAGE))
        rows = null
        const items = page.length > EXPORT_PAGE ? page.slice(0, EXPORT_PAGE) : page
        if (items.length > 0) controller.enqueue(encoder.encode(items.map((r) => pages.lineOf(r) + '\n').join('')))
        if (page.length <= EXPORT_PAGE) controller.close()
        else after = pages.cursorOf(items[items.length - 1])
      } catch (err) {
        app.log.error('export failed after its first line; the response is aborted', err)
        throw err
      }
    },
  }, { highWaterMark: 0 })
  return { response: new Response(stream, { status: 200, headers: { 'content-type': NDJSON_TYPE } }) }
}
