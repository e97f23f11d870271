import type { AliasedRawBuilder, Kysely, RawBuilder, SqlBool } from 'kysely'

/**
 * Where a highlighted match starts and ends in the text a dialect hands back. Private-use
 * characters: the records layer escapes the text as HTML, then turns these into `<mark>`.
 */
export const MARK_START = '\uE000'
export const MARK_END = '\uE001'

/** The text search languages both databases accept; only these names ever reach SQL. */
export const searchLanguages = [
  'simple',
  'english',
  'danish',
  'dutch',
  'finnish',
  'french',
  'german',
  'hungarian',
  'italian',
  'norwegian',
  'portuguese',
  'romanian',
  'russian',
  'spanish',
  'swedish',
  'turkish',
] as const

export type SearchLanguage = (typeof searchLanguages)[number]

/** The full-text index of one table, in storage terms: names here were validated before. */
export interface FullTextIndex {
  /** Stable across renames of the table; names the index's own tables, triggers and indexes. */
  key: string
  table: string
  /** The indexed text columns, the first weighing most in the ranking. */
  columns: string[]
  language: SearchLanguage
  /** Also keep a trigram index, so words match despite a typo. */
  fuzzy: boolean
}

/** One thing to look for: a word, words in this order, or words starting with this text. */
export interface FullTextTerm {
  kind: 'word' | 'phrase' | 'prefix'
  text: string
}

/** A parsed search, ready for a dialect to turn into SQL with every piece of text bound. */
export interface FullTextQuery {
  /** Every one must match; never empty. */
  include: FullTextTerm[]
  /** None may match. */
  exclude: FullTextTerm[]
  /** Words of `include` that also match a similar word (fuzzy indexes only). */
  similar: string[]
}

/** How a search narrows and orders the rows of a table read under `alias`. */
export interface FullTextMatch {
  /** A source to inner-join (on its `rowid` column equal to `joinOn`), when the dialect keeps matches apart. */
  join?: { source: AliasedRawBuilder<any, any>; alias: string; joinOn: string }
  condition?: RawBuilder<SqlBool>
  /** Most relevant first: each sorts descending. */
  relevance: RawBuilder<unknown>[]
}

/** Where a build of an index stands: `done` of `total` rows indexed. */
export type BuildProgress = (done: number, total: number) => void

/** Full-text search as one database does it: the statements of its index, and the SQL of a search. */
export interface FullTextSearch {
  /** Statements that make the (empty) objects holding the index. */
  create(index: FullTextIndex): RawBuilder<unknown>[]
  /** Statements that index the rows already stored, as one step (a migration replayed). */
  fill(index: FullTextIndex): RawBuilder<unknown>[]
  /** Indexes the rows already stored as `fill` does, telling its progress as it goes. */
  fillInSteps(db: Kysely<any>, index: FullTextIndex, progress: BuildProgress): Promise<void>
  drop(index: FullTextIndex): RawBuilder<unknown>[]
  match(index: FullTextIndex, alias: string, query: FullTextQuery): FullTextMatch
  /**
   * Snippets of the indexed columns of the given rows around what `query` matches, one per
   * column in the index's order (null for an empty column), the matches between MARK_START
   * and MARK_END, the rest as stored. A column without a match has no markers.
   */
  highlights(
    db: Kysely<any>,
    index: FullTextIndex,
    query: FullTextQuery,
    ids: string[],
  ): Promise<Map<string, Array<string | null>>>
  /** The extension a failed statement needed but could not have, if that is why it failed. */
  missingExtension(error: unknown): string | null
}
