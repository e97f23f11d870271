import type { CompiledQuery } from 'kysely'
import type { Dialect, FullTextIndex } from '../db/index.js'
import type { Statements } from './ddl.js'
import { fullTextIndexOf } from './search-options.js'
import type { CollectionDefinition } from './types.js'

/**
 * The statements that index stored rows, by the index they fill. A migration stores them
 * as they are, so replaying it fills in one go; the change that first runs them fills in
 * steps instead, to log its progress on a large collection.
 */
const fills = new WeakMap<CompiledQuery, FullTextIndex>()

/** The index a planned statement fills, if it is one of those. */
export function fillOf(statement: CompiledQuery): FullTextIndex | undefined {
  return fills.get(statement)
}

/** The search index of a collection, made and filled with the rows it holds. */
export function createSearch(dialect: Dialect, collection: CollectionDefinition): Statements {
  const index = fullTextIndexOf(collection)
  if (!index) return []
  const fill = dialect.fullText.fill(index).map((statement) => statement.compile(dialect.db))
  for (const statement of fill) fills.set(statement, index)
  return [...dialect.fullText.create(index).map((statement) => statement.compile(dialect.db)), ...fill]
}

export function dropSearch(dialect: Dialect, collection: CollectionDefinition): Statements {
  const index = fullTextIndexOf(collection)
  return index ? dialect.fullText.drop(index).map((statement) => statement.compile(dialect.db)) : []
}

/**
 * Whether a change must drop the search index before it and make it again after: the
 * options changed, or the names the index is built on (SQLite's index reads its columns
 * by name), or the table is rebuilt under it.
 */
export function isSearchRebuilt(
  before: CollectionDefinition,
  after: CollectionDefinition,
  isTableRebuilt: boolean,
): boolean {
  const [old, now] = [fullTextIndexOf(before), fullTextIndexOf(after)]
  if (!old && !now) return false
  return isTableRebuilt || JSON.stringify(old) !== JSON.stringify(now)
}
