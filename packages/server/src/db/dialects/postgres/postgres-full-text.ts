import { type RawBuilder, sql } from 'kysely'
import {
  type FullTextIndex,
  type FullTextQuery,
  type FullTextSearch,
  type FullTextTerm,
  MARK_END,
  MARK_START,
} from '../../full-text.js'
import { foldWord, SIMILAR_ENOUGH, trigramsOf } from '../../word-similarity.js'

/**
 * A generated tsvector column with a GIN index: PostgreSQL computes it in the statement
 * that writes the row, so it is always in step. Fuzzy search adds pg_trgm's GIN index over
 * the same text: rows holding one of a word's trigrams are found through it, then
 * pg_trgm's `word_similarity` decides, as on SQLite.
 */
export const SEARCH_COLUMN = '_search'
const EXTENSION = 'pg_trgm'
const LABELS = ['A', 'B', 'C', 'D']
const SNIPPET_OPTIONS = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=32, MinWords=16`
// ts_headline drops what its parser takes for HTML tags; these stand in for < and > meanwhile.
const LESS_THAN = '\uE002'
const GREATER_THAN = '\uE003'

const ginName = (index: FullTextIndex) => `_fts_${index.key}`
const trigramName = (index: FullTextIndex) => `_fts_${index.key}_trigram`

function joinedText(index: FullTextIndex, alias?: string): RawBuilder<string> {
  const column = (name: string) => (alias ? sql.ref(`${alias}.${name}`) : sql.id(name))
  return sql<string>`(${sql.join(
    index.columns.map((name) => sql`coalesce(${column(name)}, '')`),
    sql` || ' ' || `,
  )})`
}

/** A term as a tsquery; the text is always a bound value, and only to_tsquery reads syntax. */
function termQuery(config: RawBuilder<unknown>, term: FullTextTerm): RawBuilder<unknown> {
  if (term.kind === 'phrase') return sql`phraseto_tsquery(${config}, ${term.text})`
  if (term.kind === 'word') return sql`plainto_tsquery(${config}, ${term.text})`
  // The tsquery syntax of one quoted lexeme: quotes doubled, backslashes escaped.
  const quoted = `'${term.text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
  return sql`to_tsquery(${config}, ${`${quoted}:*`})`
}

/** Terms that must all match, minus those that must not; null when nothing is asked. */
function tsQuery(
  index: FullTextIndex,
  include: FullTextTerm[],
  exclude: FullTextTerm[] = [],
): RawBuilder<unknown> | null {
  const config = sql`${index.language}::regconfig`
  const parts = include.map((term) => termQuery(config, term))
  if (exclude.length > 0)
    parts.push(
      sql`!!(${sql.join(
        exclude.map((term) => termQuery(config, term)),
        sql` || `,
      )})`,
    )
  return parts.length === 0 ? null : sql`(${sql.join(parts, sql` && `)})`
}

function exactQuery(index: FullTextIndex, query: FullTextQuery): RawBuilder<unknown> {
  return tsQuery(index, query.include, query.exclude)!
}

export const postgresFullText: FullTextSearch = {
  create(index) {
    return index.fuzzy ? [sql`create extension if not exists ${sql.id(EXTENSION)}`] : []
  },

  fill(index) {
    const table = sql.table(index.table)
    const config = sql`${sql.lit(index.language)}::regconfig`
    const vector = sql.join(
      index.columns.map(
        (name, i) =>
          sql`setweight(to_tsvector(${config}, coalesce(${sql.id(name)}, '')), ${sql.lit(LABELS[i] ?? 'D')})`,
      ),
      sql` || `,
    )
    const statements = [
      sql`alter table ${table} add column ${sql.id(SEARCH_COLUMN)} tsvector generated always as (${vector}) stored`,
      sql`create index ${sql.id(ginName(index))} on ${table} using gin (${sql.id(SEARCH_COLUMN)})`,
    ]
    if (index.fuzzy)
      statements.push(
        sql`create index ${sql.id(trigramName(index))} on ${table} using gin (${joinedText(index)} gin_trgm_ops)`,
      )
    return statements
  },

  async fillInSteps(db, index, progress) {
    const counted = await sql<{
      total: number
    }>`select count(*) as total from ${sql.table(index.table)}`.execute(db)
    const total = Number(counted.rows[0]?.total ?? 0)
    // ALTER TABLE computes the column for every row in one statement: there are no steps to tell.
    for (const statement of this.fill(index)) await statement.execute(db)
    progress(total, total)
  },

  drop(index) {
    return [
      sql`drop index if exists ${sql.id(trigramName(index))}`,
      sql`alter table ${sql.table(index.table)} drop column if exists ${sql.id(SEARCH_COLUMN)}`,
    ]
  },

  match(index, alias, query) {
    const vector = sql.ref(`${alias}.${SEARCH_COLUMN}`)
    const exact = exactQuery(index, query)
    const matches = sql`${vector} @@ ${exact}`
    const relevance: RawBuilder<unknown>[] = [sql`ts_rank(${vector}, ${exact})`]
    if (query.similar.length === 0) return { condition: sql`(${matches})`, relevance }
    const text = joinedText(index, alias)
    const rest = tsQuery(
      index,
      query.include.filter((term) => term.kind !== 'word' || !query.similar.includes(term.text)),
      query.exclude,
    )
    // Fuzzy words hold letters and digits only, so their trigrams need no LIKE escapes.
    const similar = query.similar.map((word) => {
      const patterns = [...trigramsOf(foldWord(word), false)].map(
        (trigram) => sql`${text} ilike ${`%${trigram}%`}`,
      )
      return sql`(${sql.join(patterns, sql` or `)}) and word_similarity(${word}, ${text}) >= ${SIMILAR_ENOUGH}`
    })
    if (rest) similar.push(sql`${vector} @@ ${rest}`)
    relevance.push(
      sql.join(
        query.similar.map((word) => sql`word_similarity(${word}, ${text})`),
        sql` + `,
      ),
    )
    return { condition: sql`(${matches} or (${sql.join(similar, sql` and `)}))`, relevance }
  },

  async highlights(db, index, query, ids) {
    const exact = exactQuery(index, query)
    const config = sql`${index.language}::regconfig`
    const headlines = index.columns.map((name, i) => {
      const text = sql`replace(replace(${sql.ref(`r.${name}`)}, '<', ${LESS_THAN}), '>', ${GREATER_THAN})`
      return sql`ts_headline(${config}, ${text}, ${exact}, ${SNIPPET_OPTIONS}) as ${sql.id(`h${i}`)}`
    })
    const result = await sql<Record<string, string | null>>`
      select r.id as id, ${sql.join(headlines)} from ${sql.table(index.table)} as r
      where r.id in (${sql.join(ids)})`.execute(db)
    const restore = (text: string | null) =>
      text === null ? null : text.replaceAll(LESS_THAN, '<').replaceAll(GREATER_THAN, '>')
    return new Map(
      result.rows.map((row) => [
        row.id as string,
        index.columns.map((_, i) => restore(row[`h${i}`] ?? null)),
      ]),
    )
  },

  missingExtension(error) {
    const message = String((error as { message?: unknown } | null)?.message ?? '')
    return message.includes(EXTENSION) && message.includes('extension') ? EXTENSION : null
  },
}
