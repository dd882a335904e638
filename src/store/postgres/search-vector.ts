// An entry's tsvector and a search's tsquery, written by the driver as tsvector/tsquery literals: their
// lexemes are FTS5's tokens (./fts5-tokens.ts), so PostgreSQL's own parser, dictionaries and locale never
// touch them (to_tsvector would split `deploy/payments` differently, keep `-2` and `1.5` whole, fold no accent,
// and classify characters by the server's locale). README: Store says what is indexed; in short:
// - positions: the namespace's tokens, then the key's, then the value text's, one position apart within a
//   field and two between fields, so that a phrase (`<->`, distance 1) never spans two fields, as it cannot
//   span two FTS5 columns;
// - a tsvector keeps positions up to 16,383 and 256 per lexeme: tokens past position PHRASE_POSITIONS are
//   indexed as present, at position FAR (two past the last real one: no phrase reaches them), and a lexeme's
//   places past its first 256 are left out (phrases do not match there);
// - a tsvector holds at most 1 MiB: tokens are indexed in order until the entry's vector would pass
//   VECTOR_BUDGET bytes, and not after (each new lexeme costs its UTF-8 length + 5, each further place 2);
// - a lexeme holds at most 2,047 bytes: a token longer than LONG_TOKEN bytes (first cut to FTS5's 32,768) is
//   its first bytes, `#` and the SHA-256 of the whole, which no other token can equal (`#` separates tokens).
// Two more lexemes, without positions, let the GIN index narrow a search as SQLite's FTS5 indexes do (no
// token starts with `#`, so neither can be a word): the namespace's (`#n` and a hash: FTS5's ns_tag), and
// the entry's id bucket (`#r` and id / RECENT_BUCKET, written by the upsert, which knows the id), so that a
// search of common words reads only the newest entries' index entries first (search.ts).
import { createHash } from 'node:crypto'
import { forEachToken, MAX_TOKEN_BYTES, tokensOf } from '../../domain/fts5-tokens.ts'
import { valueSearchText } from './search-text.ts'

export const PHRASE_POSITIONS = 16_381
const FAR = 16_383
const PLACES = 256
export const VECTOR_BUDGET = 1_000_000
const LONG_TOKEN = 1_000
const LONG_PREFIX = 900
/** Ids per `#r` bucket. */
export const RECENT_BUCKET = 1024

/** The lexeme every entry of `namespace` holds (64 bits of its SHA-256: the namespace itself is compared too). */
export function namespaceLexeme(namespace: string): string {
  return `#n${createHash('sha256').update(namespace).digest('hex').slice(0, 16)}`
}

/** The id bucket lexeme of entry `id` as a tsvector literal (the upsert writes the same in SQL: entries.ts). */
export function recentVector(id: bigint): string {
  return `'#r${id / BigInt(RECENT_BUCKET)}'`
}

/** A token as the lexeme that stands for it in vectors and queries. */
export function lexeme(token: string): string {
  if (token.length * 3 <= LONG_TOKEN) return token // at most 3 UTF-8 bytes per UTF-16 unit
  const bytes = Buffer.from(token)
  if (bytes.length <= LONG_TOKEN) return token
  let prefix = ''
  let size = 0
  for (const ch of token) {
    size += Buffer.byteLength(ch)
    if (size > LONG_PREFIX) break
    prefix += ch
  }
  return `${prefix}#${createHash('sha256').update(bytes.subarray(0, MAX_TOKEN_BYTES)).digest('hex')}`
}

const quoted = (lex: string) => `'${lex.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`

/** The entry's tsvector literal (see above). */
export function searchVector(namespace: string, key: string, valueJson: string): string {
  return fieldsVector(namespaceLexeme(namespace), [namespace, key, valueSearchText(valueJson) ?? ''])
}

/** A task's tsvector literal: its title, description and metadata text as the entry's fields (no head lexeme). */
export function taskVector(title: string, description: string, metadataJson: string): string {
  // Most tasks have no metadata: no need to ask SQLite what text `{}` holds (none).
  return fieldsVector(null, [title, description, metadataJson === '{}' ? '' : valueSearchText(metadataJson) ?? ''])
}

/** The tsvector literal of `fields` (positions, caps and budget as above), after the `head` lexeme if any. */
function fieldsVector(head: string | null, fields: readonly string[]): string {
  const places = new Map<string, number[]>()
  let position = 0
  let size = head === null ? 0 : head.length + 5
  let full = false
  for (const text of fields) {
    if (full) break
    forEachToken(text, (token) => {
      if (full) return
      position++
      const lex = lexeme(token)
      const seen = places.get(lex)
      if (seen === undefined) {
        const cost = Buffer.byteLength(lex) + 5
        if (size + cost > VECTOR_BUDGET) {
          full = true
          return
        }
        size += cost
        places.set(lex, [position <= PHRASE_POSITIONS ? position : FAR])
      } else if (position <= PHRASE_POSITIONS && seen.length < PLACES) {
        if (size + 2 > VECTOR_BUDGET) {
          full = true
          return
        }
        size += 2
        seen.push(position)
      }
    })
    position++ // two apart between fields
  }
  const parts = head === null ? [] : [quoted(head)]
  for (const [lex, at] of places) parts.push(`${quoted(lex)}:${at.join(',')}`)
  return parts.join(' ')
}

/**
 * Whether every phrase (the lexemes of a term's tokens: searchPhrases) occurs, its tokens in a row, inside one
 * of `fields`: what FTS5 answers for a row, computed here for rows whose vector is not written yet.
 */
export function fieldsMatch(fields: readonly string[], phrases: ReadonlyArray<readonly string[]>): boolean {
  const tokens = fields.map((text) => tokensOf(text).map(lexeme))
  return phrases.every((phrase) => tokens.some((col) => {
    for (let o = 0; o + phrase.length <= col.length; o++) if (phrase.every((lex, k) => col[o + k] === lex)) return true
    return false
  }))
}

/** Each term as the lexemes of its tokens; a term without tokens is left out, as FTS5 leaves out an empty phrase. */
export function searchPhrases(terms: readonly string[]): string[][] {
  return terms.map((t) => tokensOf(t).map(lexeme)).filter((p) => p.length > 0)
}

/**
 * The terms as a tsquery literal: each term the phrase of its tokens (`<->`), the terms ANDed; a term without
 * tokens is left out, as FTS5 leaves out an empty phrase. null when no term has a token (FTS5 matches nothing).
 */
export function searchQuery(terms: readonly string[]): string | null {
  const phrases = terms.map((t) => tokensOf(t).map((token) => quoted(lexeme(token))).join(' <-> ')).filter((p) => p !== '')
  return phrases.length === 0 ? null : phrases.map((p) => `(${p})`).join(' & ')
}

/** Every word of `text` (anywhere, in any order) as a tsquery literal, or null when it has none. */
export function allWords(text: string): string | null {
  const words = tokensOf(text).map((token) => quoted(lexeme(token)))
  return words.length === 0 ? null : words.join(' & ')
}
