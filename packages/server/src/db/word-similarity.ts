/**
 * Trigram similarity of a word to a text, as pg_trgm's `word_similarity` measures it: the
 * best, over runs of consecutive trigrams of one word of the text, of shared trigrams
 * divided by the trigrams of both. Trigrams are padded, so a word's ends count. SQLite has
 * no such function; this one is registered with it.
 */

/**
 * The similarity from which a word counts as the same word mistyped. pg_trgm's default (0.6)
 * misses a letter left out of a five-letter word ("serch" is 0.44 of "search").
 */
export const SIMILAR_ENOUGH = 0.4

const WORD = /[\p{L}\p{N}]+/gu

/** Lower case without diacritics, as both databases' indexes compare words. */
export function foldWord(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()
}

/** The trigrams of a folded word; `padded` adds pg_trgm's two blanks before it and one after. */
export function trigramsOf(word: string, padded = true): Set<string> {
  const chars = [...(padded ? `  ${word} ` : word)]
  const trigrams = new Set<string>()
  for (let i = 0; i + 3 <= chars.length; i++) trigrams.add(chars.slice(i, i + 3).join(''))
  return trigrams
}

export function wordSimilarity(word: string, text: string): number {
  const wanted = trigramsOf(foldWord(word))
  if (wanted.size === 0) return 0
  let best = 0
  for (const [candidate] of foldWord(text).matchAll(WORD)) {
    const trigrams = [...trigramsOf(candidate)]
    for (let start = 0; start < trigrams.length; start++) {
      if (!wanted.has(trigrams[start]!)) continue
      let shared = 0
      for (let end = start; end < trigrams.length; end++) {
        if (wanted.has(trigrams[end]!)) shared++
        best = Math.max(best, shared / (wanted.size + end - start + 1 - shared))
      }
    }
    if (best === 1) break
  }
  return best
}
