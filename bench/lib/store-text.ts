// Deterministic, realistic-looking store values for the store benchmark: English-like text whose word
// frequencies follow Zipf's law (a few words everywhere, most words rare), like notes and documents do.

/** mulberry32: a tiny seeded PRNG, so every run indexes the same corpus. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const COMMON = ('the of and to a in is that for it as was with be by on not he this are or his from at which but ' +
  'have an they you were their one all we can her has there been if more when will would who so no out up ' +
  'into do any about new some could them other time than then only its also two may first like over such ' +
  'should these after our well where most through before must between because each those under while task ' +
  'agent plan deploy service test build review error data user request report release issue fix change ' +
  'design note decision document api database server client queue worker lease run pipeline stage').split(' ')

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'ch', 'cl', 'dr', 'gr', 'pl', 'sh', 'st', 'tr']
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'io', 'ou']
const CODAS = ['', '', 'n', 'r', 's', 't', 'l', 'm', 'nd', 'st', 'x']

export const VOCABULARY_SIZE = 50_000

/** Word of rank 0 is the most frequent. Ranks past COMMON are invented words of 2–4 syllables. */
export function vocabulary(size = VOCABULARY_SIZE): string[] {
  const words = [...new Set(COMMON)]
  const seen = new Set(words)
  const next = rng(7)
  const pick = <T>(xs: T[]) => xs[Math.floor(next() * xs.length)]
  while (words.length < size) {
    let w = ''
    const syllables = 2 + Math.floor(next() * 3)
    for (let i = 0; i < syllables; i++) w += pick(ONSETS) + pick(VOWELS)
    w += pick(CODAS)
    if (!seen.has(w)) {
      seen.add(w)
      words.push(w)
    }
  }
  return words
}

/** Samples ranks with P(rank r) ∝ 1/(r+1)^s. */
export function zipf(size: number, s: number, random: () => number): () => number {
  const cumulative = new Float64Array(size)
  let sum = 0
  for (let r = 0; r < size; r++) cumulative[r] = sum += 1 / (r + 1) ** s
  return () => {
    const x = random() * sum
    let lo = 0
    let hi = size - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cumulative[mid] < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export type TextGen = { words: string[]; sentence(n: number): string; entry(i: number): { namespace: string; key: string; value: unknown } }

export const NAMESPACES = ['notes', 'decisions', 'docs', 'runbooks', 'research', ...Array.from({ length: 15 }, (_, i) => `agent-${i}`)]
const STATUSES = ['draft', 'open', 'accepted', 'superseded']

/**
 * Values of 1–5 KB: a title, a body, tags, an author, a status and a priority. Bodies are drawn from a pool
 * of Zipfian sentences (generating every word afresh costs more than indexing it), so word frequencies
 * across the corpus stay Zipfian.
 */
export function textGen(seed = 1, poolSize = 100_000): TextGen {
  const words = vocabulary()
  const random = rng(seed)
  const rank = zipf(words.length, 1.0, random)
  const sentence = (n: number) => {
    let out = ''
    for (let i = 0; i < n; i++) out += (i ? ' ' : '') + words[rank()]
    return out.charAt(0).toUpperCase() + out.slice(1) + '.'
  }
  const pool = Array.from({ length: poolSize }, () => sentence(6 + Math.floor(random() * 14)))
  return {
    words,
    sentence,
    entry(i) {
      const targetBytes = 1000 + Math.floor(random() * 4000)
      let body = ''
      while (body.length < targetBytes - 150) body += (body ? ' ' : '') + pool[Math.floor(random() * pool.length)]
      return {
        namespace: NAMESPACES[i % NAMESPACES.length],
        key: `doc-${i}`,
        value: {
          title: sentence(4 + Math.floor(random() * 6)),
          body,
          tags: [words[rank()], words[rank()], words[rank()]],
          author: `agent-${Math.floor(random() * 50)}`,
          status: STATUSES[Math.floor(random() * STATUSES.length)],
          priority: Math.floor(random() * 5),
        },
      }
    },
  }
}
