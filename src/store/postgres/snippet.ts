// FTS5's snippet(store_fts, -1, '**', '**', '…', 24) in JavaScript, for the rows a PostgreSQL search returns:
// a port of fts5SnippetFunction and fts5HighlightCb (SQLite 3.54), over the same columns (namespace, key, the
// value's text: search-text.ts) and the same tokens (fts5-tokens.ts). The window of 24 tokens with the most
// matches (each phrase scores 1,000 the first time in a window, 1 after), or one starting a sentence (+100,
// +120 at the very start) in the column that scores best (ties: the first column); matches in `**`, `…`
// where the window cuts the text. Phrase instances are found by comparing lexemes (search-vector.ts), which
// equal each other as FTS5's terms do (the first 32,768 bytes).
import { forEachToken } from '../../domain/fts5-tokens.ts'
import { lexeme } from './search-vector.ts'

const OPEN = '**'
const CLOSE = '**'
const ELLIPSIS = '…'
const TOKENS = 24

type Token = { lex: string; start: number; end: number }
/** A phrase instance: phrase index, column, first token. */
type Inst = { p: number; c: number; o: number }

/** The snippet of a row whose columns are `columns` (null: no text) for phrases of lexemes (none empty). */
export function snippet(columns: ReadonlyArray<string | null>, phrases: ReadonlyArray<readonly string[]>): string | null {
  const tokens: Token[][] = columns.map((text) => {
    const out: Token[] = []
    if (text !== null) forEachToken(text, (token, start, end) => out.push({ lex: lexeme(token), start, end }))
    return out
  })
  // xInst's order: by column, then token, then phrase.
  const inst: Inst[] = []
  tokens.forEach((col, c) => {
    for (let o = 0; o < col.length; o++) {
      phrases.forEach((phrase, p) => {
        if (o + phrase.length <= col.length && phrase.every((lex, k) => col[o + k].lex === lex)) inst.push({ p, c, o })
      })
    }
  })
  const size = (p: number) => phrases[p].length

  // fts5SnippetScore: the score of the window of TOKENS from `pos` in column `col`, and where to start it so
  // that its matches sit in the middle.
  function score(col: number, pos: number, docSize: number): { score: number; adjusted: number } {
    const seen = new Uint8Array(phrases.length)
    let total = 0
    let first = -1
    let last = 0
    for (const { p, c, o } of inst) {
      if (c === col && o >= pos && o < pos + TOKENS) {
        total += seen[p] ? 1 : 1000
        seen[p] = 1
        if (first < 0) first = o
        last = o + size(p)
      }
    }
    let adjusted = first - Math.trunc((TOKENS - (last - first)) / 2)
    if (adjusted + TOKENS > docSize) adjusted = docSize - TOKENS
    if (adjusted < 0) adjusted = 0
    return { score: total, adjusted }
  }

  let bestCol = 0
  let bestStart = 0
  let bestScore = 0
  let colSize = 0
  tokens.forEach((col, c) => {
    const text = columns[c] ?? ''
    // fts5SentenceFinderCb: tokens that start a sentence (the first, and any after '.' or ':' and white space).
    const firsts: number[] = []
    col.forEach((t, k) => {
      if (k === 0) {
        firsts.push(0)
        return
      }
      let i = t.start - 1
      let ch = ''
      for (; i >= 0; i--) {
        ch = text[i]
        if (ch !== ' ' && ch !== '\t' && ch !== '\n' && ch !== '\r') break
      }
      if (i !== t.start - 1 && (ch === '.' || ch === ':')) firsts.push(k)
    })
    const docSize = col.length
    for (const { c: ic, o } of inst) {
      if (ic !== c) continue
      const s = score(c, o, docSize)
      if (s.score > bestScore) {
        bestScore = s.score
        bestCol = c
        bestStart = s.adjusted
        colSize = docSize
      }
      if (firsts.length > 0 && docSize > TOKENS) {
        let jj = 0
        for (; jj < firsts.length - 1; jj++) if (firsts[jj + 1] > o) break
        if (firsts[jj] < o) {
          const total = score(c, firsts[jj], docSize).score + (firsts[jj] === 0 ? 120 : 100)
          if (total > bestScore) {
            bestScore = total
            bestCol = c
            bestStart = firsts[jj]
            colSize = docSize
          }
        }
      }
    }
  })

  const text = columns[bestCol]
  if (text === null) return null
  if (colSize === 0) colSize = tokens[bestCol].length
  // fts5HighlightCb over the window, with the coalesced instances of the column (overlapping ones are one).
  let out = ''
  // SQLite copies text with "%.*s", which stops at a NUL: so does this.
  const append = (s: string) => {
    const nul = s.indexOf('\0')
    out += nul < 0 ? s : s.slice(0, nul)
  }
  const mine = inst.filter((i) => i.c === bestCol)
  let next = 0
  let iterStart = -1
  let iterEnd = -1
  const advance = () => {
    iterStart = -1
    iterEnd = -1
    while (next < mine.length) {
      const { p, o } = mine[next]
      const end = o - 1 + size(p)
      if (iterStart < 0) {
        iterStart = o
        iterEnd = end
      } else if (o <= iterEnd) {
        if (end > iterEnd) iterEnd = end
      } else {
        break
      }
      next++
    }
  }
  advance()
  const rangeStart = bestStart
  const rangeEnd = bestStart + TOKENS - 1
  if (rangeStart > 0) append(ELLIPSIS)
  while (iterStart >= 0 && iterStart < rangeStart) advance()
  let off = 0
  let open = false
  tokens[bestCol].forEach(({ start, end }, pos) => {
    if (pos < rangeStart || pos > rangeEnd) return
    if (rangeStart && pos === rangeStart) off = start
    if (open && (pos <= iterStart || iterStart < 0) && start > off) {
      append(CLOSE)
      open = false
    }
    if (pos === iterStart && !open) {
      append(text.slice(off, start))
      append(OPEN)
      off = start
      open = true
    }
    if (pos === iterEnd) {
      if (!open) {
        append(OPEN)
        open = true
      }
      append(text.slice(off, end))
      off = end
      advance()
    }
    if (pos === rangeEnd) {
      if (open) {
        if (iterStart >= 0 && pos >= iterStart) {
          append(text.slice(off, end))
          off = end
        }
        append(CLOSE)
        open = false
      }
      append(text.slice(off, end))
      off = end
    }
  })
  if (open) append(CLOSE)
  if (rangeEnd >= colSize - 1) append(text.slice(off))
  else append(ELLIPSIS)
  return out
}
