// FTS5's tokenizer `unicode61 remove_diacritics 2` (schema.sql's store_fts) in JavaScript, so that PostgreSQL
// indexes and searches by exactly the tokens SQLite does: a port of SQLite's fts5UnicodeTokenize and its
// tables (./fts5-tables.ts). Token characters are those of Unicode categories L*, N* and Co as SQLite's tables
// have them (code points the tables do not list count as token characters, as in SQLite), ASCII letters and
// digits; everything else separates, U+0000 included. Inside a token, the combining diacritics that FTS5 knows
// (U+0300–U+0331, some) are kept going and dropped. Each character is case-folded (simple folding, the Basic
// Multilingual Plane and Deseret only) and, in the BMP, stripped of its diacritic when it is a Latin letter
// FTS5's table maps (é → e, ß stays ß, ø → o). tests/store/fts5-tokens.test.ts compares this with the bundled
// SQLite's FTS5 over every code point.
import { BLOCK, DATA, DIA, DIA_CHAR, FOLD_CODE, FOLD_FLAGS, FOLD_OFFSET, FOLD_RANGE, MAP } from './fts5-tables.ts'

/** FTS5 keeps the first 32,768 bytes of a longer token (FTS5_MAX_TOKEN_SIZE), in the index and in queries. */
export const MAX_TOKEN_BYTES = 32_768

// Categories that are token characters: 0 (not in the tables), Ll Lm Lo Lt Lu, Nd Nl No, LC, Co.
const TOKEN_CATEGORY = new Uint8Array(32)
for (const c of [0, 5, 6, 7, 8, 9, 13, 14, 15, 30, 31]) TOKEN_CATEGORY[c] = 1

/** sqlite3Fts5UnicodeCategory. */
function category(code: number): number {
  if (code >= 1 << 20) return 0
  let lo = BLOCK[code >> 16]
  let hi = BLOCK[1 + (code >> 16)]
  const key = code & 0xffff
  let res = -1
  while (hi > lo) {
    const test = (hi + lo) >> 1
    if (key >= MAP[test]) {
      res = test
      lo = test + 1
    } else {
      hi = test
    }
  }
  if (res < 0) return 0
  if (key >= MAP[res] + (DATA[res] >> 5)) return 0
  const ret = DATA[res] & 0x1f
  if (ret !== 30) return ret
  return (key - MAP[res]) & 1 ? 5 : 9
}

/** sqlite3Fts5UnicodeIsdiacritic. */
function isDiacritic(c: number): boolean {
  if (c < 768 || c > 817) return false
  return c < 768 + 32 ? ((0x08029fdf >>> (c - 768)) & 1) === 1 : ((0x000361f8 >>> (c - 768 - 32)) & 1) === 1
}

/** fts5_remove_diacritic(c, bComplex = 1). */
function removeDiacritic(c: number): number {
  const key = ((c << 3) | 7) >>> 0
  let res = 0
  let lo = 0
  let hi = DIA.length - 1
  while (hi >= lo) {
    const test = (hi + lo) >> 1
    if (key >= DIA[test]) {
      res = test
      lo = test + 1
    } else {
      hi = test - 1
    }
  }
  return c > (DIA[res] >> 3) + (DIA[res] & 7) ? c : DIA_CHAR[res] & 0x7f
}

/** sqlite3Fts5UnicodeFold(c, 2) for c >= 128 (0: the character is dropped). */
function fold(c: number): number {
  if (c < 65536) {
    let lo = 0
    let hi = FOLD_CODE.length - 1
    let res = -1
    while (hi >= lo) {
      const test = (hi + lo) >> 1
      if (c - FOLD_CODE[test] >= 0) {
        res = test
        lo = test + 1
      } else {
        hi = test - 1
      }
    }
    let ret = c
    const first = FOLD_CODE[res]
    if (c < first + FOLD_RANGE[res] && (1 & FOLD_FLAGS[res] & (first ^ c)) === 0) ret = (c + FOLD_OFFSET[FOLD_FLAGS[res] >> 1]) & 0xffff
    return removeDiacritic(ret)
  }
  return c >= 66560 && c < 66600 ? c + 40 : c
}

// ASCII: letters and digits are token characters (what sqlite3Fts5UnicodeAscii derives for these categories).
const ASCII_TOKEN = new Uint8Array(128)
for (let c = 0; c < 128; c++) ASCII_TOKEN[c] = /[0-9A-Za-z]/.test(String.fromCharCode(c)) ? 1 : 0

/**
 * Calls `onToken` with each token of `text` (folded as FTS5 folds it, not cut to MAX_TOKEN_BYTES) and the
 * UTF-16 offsets of its first character and past its last. A lone surrogate reads as U+FFFD, as FTS5 reads
 * what SQLite makes of it, and so do U+FFFE and U+FFFF: separators.
 */
export function forEachToken(text: string, onToken: (token: string, start: number, end: number) => void): void {
  const n = text.length
  let i = 0
  while (i < n) {
    // Separators.
    let c = text.charCodeAt(i)
    if (c < 128) {
      if (ASCII_TOKEN[c] === 0) {
        i++
        continue
      }
    } else {
      const code = codePointAt(text, i)
      if (!isTokenStart(code)) {
        i += code > 0xffff ? 2 : 1
        continue
      }
    }
    // A token: its characters folded into `out` (ASCII runs copied in one slice).
    const start = i
    let out = ''
    let end = i
    while (i < n) {
      c = text.charCodeAt(i)
      if (c < 128) {
        if (ASCII_TOKEN[c] === 0) break
        let j = i + 1
        while (j < n && text.charCodeAt(j) < 128 && ASCII_TOKEN[text.charCodeAt(j)] === 1) j++
        out += text.slice(i, j).toLowerCase()
        i = j
      } else {
        const code = codePointAt(text, i)
        if (!isTokenStart(code) && !isDiacritic(code)) break
        const folded = fold(code)
        if (folded !== 0) out += String.fromCodePoint(folded)
        i += code > 0xffff ? 2 : 1
      }
      end = i
    }
    onToken(out, start, end)
  }
}

/** The tokens of `text`, in order. */
export function tokensOf(text: string): string[] {
  const out: string[] = []
  forEachToken(text, (t) => out.push(t))
  return out
}

function isTokenStart(code: number): boolean {
  return TOKEN_CATEGORY[category(code)] === 1
}

/** The code point at i (i < length, charCodeAt(i) >= 128); a lone surrogate, U+FFFE and U+FFFF read as U+FFFD. */
function codePointAt(text: string, i: number): number {
  const c = text.charCodeAt(i)
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1)
    if (d >= 0xdc00 && d <= 0xdfff) {
      return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000
    }
  }
  if ((c & 0xf800) === 0xd800 || c >= 0xfffe) return 0xfffd
  return c
}
