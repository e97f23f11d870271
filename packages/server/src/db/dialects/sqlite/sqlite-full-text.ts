import type { Database } from 'better-sqlite3'
import { type RawBuilder, sql } from 'kysely'
import {
  type FullTextIndex,
  type FullTextQuery,
  type FullTextSearch,
  type FullTextTerm,
  MARK_END,
  MARK_START,
} from '../../full-text.js'
import { foldWord, SIMILAR_ENOUGH, trigramsOf, wordSimilarity } from '../../word-similarity.js'

/**
 * FTS5 tables with external content: the text stays in the collection's table, the index
 * holds only tokens, keyed by the table's rowid. `_rowid_`, because a field may be named
 * `rowid`. Triggers keep the index in step in the writing statement's own transaction.
 */
const ROWID = '_rowid_'
const SIMILARITY_FUNCTION = 'plinth_word_similarity'
const ROWS_PER_STEP = 5000
/** Tokens around the matches in a snippet; FTS5 allows at most 64. */
const SNIPPET_TOKENS = 32
/** Where a snippet cuts the text. */
const ELLIPSIS = '\u2026'
/** bm25 weights by column position, as PostgreSQL's ts_rank weighs labels A to D. */
const WEIGHTS = [1, 0.4, 0.2, 0.1]

const ftsName = (index: FullTextIndex) => `_fts_${index.key}`
const trigramName = (index: FullTextIndex) => `_fts_${index.key}_trigram`
const indexTables = (index: FullTextIndex) =>
  index.fuzzy ? [ftsName(index), trigramName(index)] : [ftsName(index)]
const triggerName = (index: FullTextIndex, event: string) => `_fts_${index.key}_${event}`

// Only English has a stemmer in FTS5; every language folds case and diacritics alike.
const tokenizerOf = (index: FullTextIndex) =>
  index.language === 'english' ? 'porter unicode61 remove_diacritics 2' : 'unicode61 remove_diacritics 2'

/** Text as one FTS5 string: user text never reaches FTS5's own syntax. */
const ftsString = (text: string) => `"${text.replaceAll('"', '""')}"`

function termSyntax(term: FullTextTerm): string {
  return term.kind === 'prefix' ? `${ftsString(term.text)} *` : ftsString(term.text)
}

/** The MATCH text of terms that must all match, minus those that must not; null when nothing must match. */
function matchText(include: FullTextTerm[], exclude: FullTextTerm[] = []): string | null {
  if (include.length === 0) return null
  const all = include.map(termSyntax).join(' AND ')
  return exclude.length === 0 ? all : `(${all}) NOT (${exclude.map(termSyntax).join(' OR ')})`
}

const exactText = (query: FullTextQuery) => matchText(query.include, query.exclude)!

/** Candidates for a word with a typo: rows sharing at least one of its trigrams (the rest is checked after). */
function candidatesText(words: string[]): string {
  return words
    .map((word) => `(${[...trigramsOf(foldWord(word), false)].map(ftsString).join(' OR ')})`)
    .join(' AND ')
}

const columnList = (index: FullTextIndex, prefix?: string) =>
  sql.join(index.columns.map((column) => (prefix ? sql.ref(`${prefix}.${column}`) : sql.id(column))))

const joinedText = (index: FullTextIndex, table: string) =>
  sql.join(
    index.columns.map((column) => sql`coalesce(${sql.ref(`${table}.${column}`)}, '')`),
    sql` || ' ' || `,
  )

/** The SQL function that decides a word with a typo, registered on each connection (queries only use it). */
export function registerFullTextFunctions(database: Database): void {
  database.function(SIMILARITY_FUNCTION, { deterministic: true }, (word: unknown, text: unknown) =>
    typeof word === 'string' && typeof text === 'string' ? wordSimilarity(word, text) : 0,
  )
}

export const sqliteFullText: FullTextSearch = {
  create(index) {
    const table = sql.table(index.table)
    const statements: RawBuilder<unknown>[] = []
    for (const name of indexTables(index)) {
      const tokenizer = name === ftsName(index) ? tokenizerOf(index) : 'trigram remove_diacritics 1'
      statements.push(
        sql`create virtual table ${sql.table(name)} using fts5(${columnList(index)}, content=${sql.lit(index.table)}, content_rowid=${sql.lit(ROWID)}, tokenize=${sql.lit(tokenizer)})`,
      )
    }
    const inserts = (row: 'new') =>
      sql.join(
        indexTables(index).map(
          (name) =>
            sql`insert into ${sql.table(name)} (rowid, ${columnList(index)}) values (${sql.ref(`${row}.${ROWID}`)}, ${columnList(index, row)});`,
        ),
        sql` `,
      )
    const deletes = sql.join(
      indexTables(index).map(
        (name) =>
          sql`insert into ${sql.table(name)} (${sql.id(name)}, rowid, ${columnList(index)}) values ('delete', ${sql.ref(`old.${ROWID}`)}, ${columnList(index, 'old')});`,
      ),
      sql` `,
    )
    statements.push(
      sql`create trigger ${sql.id(triggerName(index, 'insert'))} after insert on ${table} begin ${inserts('new')} end`,
      sql`create trigger ${sql.id(triggerName(index, 'delete'))} after delete on ${table} begin ${deletes} end`,
      sql`create trigger ${sql.id(triggerName(index, 'update'))} after update of ${columnList(index)} on ${table} begin ${deletes} ${inserts('new')} end`,
    )
    return statements
  },

  fill(index) {
    return indexTables(index).map(
      (name) => sql`insert into ${sql.table(name)} (${sql.id(name)}) values ('rebuild')`,
    )
  },

  async fillInSteps(db, index, progress) {
    const table = sql.table(index.table)
    const rowid = sql.id(ROWID)
    const counted = await sql<{ total: number }>`select count(*) as total from ${table}`.execute(db)
    const total = Number(counted.rows[0]?.total ?? 0)
    let done = 0
    let after = Number.MIN_SAFE_INTEGER
    while (done < total) {
      const step = await sql<{ last: number | null; rows: number }>`
        select max(${rowid}) as last, count(*) as rows from
        (select ${rowid} from ${table} where ${rowid} > ${after} order by ${rowid} limit ${ROWS_PER_STEP})`.execute(
        db,
      )
      const { last, rows } = step.rows[0] ?? { last: null, rows: 0 }
      if (last === null || rows === 0) break
      for (const name of indexTables(index))
        await sql`insert into ${sql.table(name)} (rowid, ${columnList(index)})
          select ${rowid}, ${columnList(index)} from ${table} where ${rowid} > ${after} and ${rowid} <= ${last}`.execute(
          db,
        )
      done += Number(rows)
      after = last
      progress(done, total)
    }
  },

  drop(index) {
    return [
      ...['insert', 'update', 'delete'].map(
        (event) => sql`drop trigger if exists ${sql.id(triggerName(index, event))}`,
      ),
      sql`drop table if exists ${sql.table(trigramName(index))}`,
      sql`drop table if exists ${sql.table(ftsName(index))}`,
    ]
  },

  match(index, alias, query) {
    const fts = sql.table(ftsName(index))
    const weights = sql.join(index.columns.map((_, i) => sql`${WEIGHTS[i] ?? WEIGHTS.at(-1)!}`))
    const exact = sql`select rowid, -bm25(${fts}, ${weights}) as relevance, 0 as closeness
      from ${fts} where ${fts} match ${exactText(query)}`
    const source = query.similar.length === 0 ? exact : sql`${exact} union all ${similarRows(index, query)}`
    return {
      join: { source: sql`(${source})`.as('_search'), alias: '_search', joinOn: `${alias}.${ROWID}` },
      relevance:
        query.similar.length === 0
          ? [sql.ref('_search.relevance')]
          : [sql.ref('_search.relevance'), sql.ref('_search.closeness')],
    }
  },

  async highlights(db, index, query, ids) {
    const fts = sql.table(ftsName(index))
    const snippets = index.columns.map(
      (_, i) =>
        sql`snippet(${fts}, ${i}, ${MARK_START}, ${MARK_END}, ${ELLIPSIS}, ${SNIPPET_TOKENS}) as ${sql.id(`h${i}`)}`,
    )
    // CROSS JOIN keeps the page's rows outside: FTS5 then matches one rowid at a time.
    const result = await sql<Record<string, string | null>>`
      select r.id as id, ${sql.join(snippets)}
      from ${sql.table(index.table)} as r cross join ${fts}
      where ${fts}.rowid = ${sql.ref(`r.${ROWID}`)} and ${fts} match ${exactText(query)}
      and r.id in (${sql.join(ids)})`.execute(db)
    return new Map(
      result.rows.map((row) => [row.id as string, index.columns.map((_, i) => row[`h${i}`] ?? null)]),
    )
  },

  missingExtension: () => null,
}

/**
 * Rows that match only with typos forgiven: every similar word close to a word of the row,
 * everything else of the query as written, and not already an exact match.
 */
function similarRows(index: FullTextIndex, query: FullTextQuery): RawBuilder<unknown> {
  const fts = sql.table(ftsName(index))
  const trigram = trigramName(index)
  const text = joinedText(index, trigram)
  const rowid = sql.ref(`${trigram}.rowid`)
  const rest = query.include.filter((term) => term.kind !== 'word' || !query.similar.includes(term.text))
  const conditions = [
    sql`${sql.table(trigram)} match ${candidatesText(query.similar)}`,
    sql`${rowid} not in (select rowid from ${fts} where ${fts} match ${exactText(query)})`,
  ]
  const required = matchText(rest)
  if (required !== null)
    conditions.push(sql`${rowid} in (select rowid from ${fts} where ${fts} match ${required})`)
  const excluded = matchText(query.exclude)
  if (excluded !== null)
    conditions.push(sql`${rowid} not in (select rowid from ${fts} where ${fts} match ${excluded})`)
  const similarities = query.similar.map((word) => sql`${sql.id(SIMILARITY_FUNCTION)}(${word}, ${text})`)
  for (const similarity of similarities) conditions.push(sql`${similarity} >= ${SIMILAR_ENOUGH}`)
  return sql`select ${rowid} as rowid, 0 as relevance, ${sql.join(similarities, sql` + `)} as closeness
    from ${sql.table(trigram)} where ${sql.join(conditions, sql` and `)}`
}
