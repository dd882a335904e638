// The one way the console writes markup: the `html` tagged template escapes every interpolated value unless
// it is already Html (the result of another `html`, or a list of them). Nothing else builds markup from strings.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Markup that is safe to insert as it is. Only `html` and `Html.trusted` make one. */
export class Html {
  readonly text: string
  private constructor(text: string) {
    this.text = text
  }
  /** For text that is markup by construction (a constant, a served asset's tag), never for data. */
  static trusted(text: string): Html {
    return new Html(text)
  }
  toString(): string {
    return this.text
  }
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c])
}

/** Values: Html (kept), arrays (each part rendered), null/undefined/false (nothing), anything else (escaped text). */
export type Value = Html | string | number | boolean | null | undefined | readonly Value[]

function render(value: Value): string {
  if (value instanceof Html) return value.text
  if (Array.isArray(value)) return value.map(render).join('')
  if (value === null || value === undefined || value === false) return ''
  return escapeHtml(String(value))
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]
  return Html.trusted(out)
}
