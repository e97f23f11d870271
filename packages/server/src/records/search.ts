import type { Kysely } from 'kysely'
import { type CollectionDefinition, fullTextIndexOf } from '../collections/index.js'
import { type Dialect, type FullTextIndex, type FullTextQuery, MARK_END, MARK_START } from '../db/index.js'
import { BadRequestError } from '../errors/index.js'
import { fullTextQuery, parseSearch } from '../query/index.js'
import type { RecordData } from './types.js'

/** A list's search: the collection's index and what to look for in it. */
export interface CollectionSearch {
  index: FullTextIndex
  query: FullTextQuery
}

/** The search of a list, null when `search` is blank; a 400 naming `search` when the collection has none. */
export function collectionSearch(
  collection: CollectionDefinition,
  text: string | undefined,
): CollectionSearch | null {
  if (text === undefined || text.trim() === '') return null
  const index = fullTextIndexOf(collection)
  if (!index)
    throw new BadRequestError(
      `Invalid query parameter search: the collection ${collection.name} has no search; its definition can add one.`,
      'invalid_query',
      { search: { code: 'invalid_query', message: `the collection ${collection.name} has no search` } },
    )
  return { index, query: fullTextQuery(parseSearch(text), index.fuzzy) }
}

/**
 * Adds `highlight` to each record: per search field that matched, a snippet as HTML, its
 * text escaped and the matches in `<mark>`. Search fields are never hidden, so whoever
 * reads the record may read them.
 */
export async function addHighlights(
  db: Kysely<any>,
  dialect: Dialect,
  collection: CollectionDefinition,
  search: CollectionSearch,
  records: RecordData[],
): Promise<void> {
  if (records.length === 0) return
  const ids = records.map((record) => record.id as string)
  const snippets = await dialect.fullText.highlights(db, search.index, search.query, ids)
  const isEditor = search.index.columns.map(
    (name) => collection.fields.find((f) => f.name === name)?.type === 'editor',
  )
  for (const record of records) {
    const highlight: Record<string, string> = {}
    snippets.get(record.id as string)?.forEach((snippet, i) => {
      if (snippet?.includes(MARK_START))
        highlight[search.index.columns[i]!] = markedHtml(isEditor[i] ? htmlText(snippet) : snippet)
    })
    record.highlight = highlight
  }
}

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}
const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

/**
 * Text with markers as HTML: everything escaped, then each marked run in `<mark>`. Markers
 * are paired here, so a stray one in a document cannot leave a tag open.
 */
export function markedHtml(text: string): string {
  let html = ''
  let isOpen = false
  for (const char of text) {
    if (char === MARK_START) {
      if (!isOpen) html += '<mark>'
      isOpen = true
    } else if (char === MARK_END) {
      if (isOpen) html += '</mark>'
      isOpen = false
    } else html += escapes[char] ?? char
  }
  return isOpen ? `${html}</mark>` : html
}

/**
 * The text of a snippet of an editor field's HTML: tags (and a tag the snippet cut in
 * two) removed, entities decoded, so it is escaped once like any text.
 */
function htmlText(snippet: string): string {
  return snippet
    .replace(/^(…?)[^<>]*>/, '$1')
    .replace(/<[^>]*(>|$)/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
      const isHex = name[1]?.toLowerCase() === 'x'
      const code = name[0] === '#' ? Number.parseInt(name.slice(isHex ? 2 : 1), isHex ? 16 : 10) : null
      if (code !== null) return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
      return entities[name.toLowerCase()] ?? whole
    })
    .replace(/\s+/g, ' ')
    .trim()
}
