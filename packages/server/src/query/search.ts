/*
 * Search grammar; terms are separated by whitespace:
 *
 *   search = term , { term } ;                        (* at most 500 characters, 32 terms *)
 *   term   = [ "-" ] , ( phrase | word [ "*" ] ) ;    (* "-" excludes, "*" matches a prefix *)
 *   phrase = '"' , { any but '"' } , [ '"' ] ;        (* an unclosed phrase runs to the end *)
 *   word   = any but whitespace and '"', { ... } ;
 *
 * Every term must match, none excluded may. Nothing here is search syntax of a database:
 * the dialects quote each term as their own literal or bind it as a value.
 */
import type { FullTextQuery, FullTextTerm } from '../db/index.js'
import { BadRequestError } from '../errors/index.js'

export const MAX_SEARCH_LENGTH = 500
const MAX_SEARCH_TERMS = 32
/** Typo tolerance serves short queries: a longer one has words enough to find what is meant. */
const MAX_SIMILAR_WORDS = 3
/** Shorter words share too few trigrams to tell a typo from another word. */
const MIN_SIMILAR_LENGTH = 4

/** A parsed search: what to look for and what to leave out. */
export interface SearchTerms {
  include: FullTextTerm[]
  exclude: FullTextTerm[]
}

const HAS_WORD = /[\p{L}\p{N}]/u
const PLAIN_WORD = /^[\p{L}\p{N}]+$/u
// C0 and C1 controls other than tab and line breaks, which separate terms like spaces.
const CONTROL = /(?![\t\n\r])\p{Cc}/u

function invalid(message: string): BadRequestError {
  return new BadRequestError(`Invalid query parameter search: ${message}.`, 'invalid_query', {
    search: { code: 'invalid_query', message },
  })
}

/**
 * Reads `search=`; throws a 400 naming the parameter when it is too long, holds control
 * characters, or leaves nothing to look for.
 *
 * @example parseSearch('"full text" search* -draft')
 */
export function parseSearch(input: string): SearchTerms {
  if (input.length > MAX_SEARCH_LENGTH) throw invalid(`must be at most ${MAX_SEARCH_LENGTH} characters`)
  if (CONTROL.test(input)) throw invalid('must not contain control characters')
  const terms: SearchTerms = { include: [], exclude: [] }
  let count = 0
  let at = 0
  while (at < input.length) {
    if (/\s/.test(input[at]!)) {
      at++
      continue
    }
    const isExcluded = input[at] === '-'
    if (isExcluded) at++
    let term: FullTextTerm
    if (input[at] === '"') {
      const close = input.indexOf('"', at + 1)
      const end = close === -1 ? input.length : close
      term = {
        kind: 'phrase',
        text: input
          .slice(at + 1, end)
          .trim()
          .replace(/\s+/g, ' '),
      }
      at = end + 1
    } else {
      const rest = input.slice(at)
      const word = /^[^\s"]*/.exec(rest)![0]
      at += word.length
      const text = word.replace(/\*+$/, '')
      term = { kind: text.length < word.length ? 'prefix' : 'word', text }
    }
    // A term without a letter or digit has no token to look for: `-`, `*` or `""` alone.
    if (!HAS_WORD.test(term.text)) continue
    if (++count > MAX_SEARCH_TERMS) throw invalid(`must hold at most ${MAX_SEARCH_TERMS} terms`)
    if (term.kind === 'phrase' && !term.text.includes(' ')) term.kind = 'word'
    ;(isExcluded ? terms.exclude : terms.include).push(term)
  }
  if (terms.include.length === 0)
    throw invalid(
      count === 0 ? 'has no words to look for' : 'must hold a word to look for that is not excluded with -',
    )
  return terms
}

/**
 * The query a dialect runs; with a fuzzy index, the plain words of a short query also
 * match similar words.
 */
export function fullTextQuery(terms: SearchTerms, isFuzzy: boolean): FullTextQuery {
  const words = terms.include.filter((term) => term.kind === 'word' && PLAIN_WORD.test(term.text))
  const similar =
    isFuzzy && words.length <= MAX_SIMILAR_WORDS
      ? words.map((term) => term.text).filter((text) => [...text].length >= MIN_SIMILAR_LENGTH)
      : []
  return { include: terms.include, exclude: terms.exclude, similar: [...new Set(similar)] }
}
