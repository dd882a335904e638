// What a console page or action gets and gives back.
import type { App } from '../app.ts'
import type { Html } from './html.ts'
import type { Frame } from './layout.ts'

export type UiRequest = {
  params: Record<string, string>
  query: URLSearchParams
  /** The form fields of a POST (urlencoded), else empty. */
  form: URLSearchParams
  nowMs: number
  /** The frame's fields every page shares (CSRF token, whether there is a login). */
  frame: Omit<Frame, 'title' | 'section' | 'isLive'>
}

export type UiReply = { status: number; body: Html } | { redirect: string }

export type UiRoute = {
  method: 'GET' | 'POST'
  /** Segments after /ui; `:name` captures one. */
  path: string
  handle(req: UiRequest, app: App): Promise<UiReply>
}

export const uiGet = (path: string, handle: UiRoute['handle']): UiRoute => ({ method: 'GET', path, handle })
export const uiPost = (path: string, handle: UiRoute['handle']): UiRoute => ({ method: 'POST', path, handle })

export const ok = (body: Html): UiReply => ({ status: 200, body })
export const seeOther = (redirect: string): UiReply => ({ redirect })

/** A form's `return` field if it is a console page (never another site), else the fallback. */
export function returnTo(form: URLSearchParams, fallback: string): string {
  const to = form.get('return')
  // Printable ASCII without spaces or backslashes: a CR or LF would break the Location header after the change
  // had committed.
  return to !== null && /^\/ui(\/|$|\?)/.test(to) && /^[\x21-\x5b\x5d-\x7e]*$/.test(to) ? to : fallback
}
