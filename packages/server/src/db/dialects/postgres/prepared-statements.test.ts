import { type Kysely, sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { freshPostgresUrl, postgresSkipReason, shouldSkip } from '../../../test-support/databases.js'
import type { Dialect } from '../../dialect.js'
import { createPostgresDialect } from './postgres-dialect.js'
import { PREPARED_PER_CONNECTION } from './prepared-statements.js'

const READ = 'select "v" from "items" where "id" = $1'

describe('prepared statements on PostgreSQL', () => {
  let schema: Awaited<ReturnType<typeof freshPostgresUrl>> | undefined
  let dialect: Dialect | undefined

  /** One connection, so every statement below runs in the session whose prepared statements are counted. */
  async function open(preparedStatements: boolean): Promise<Kysely<any>> {
    dialect = createPostgresDialect({
      url: schema!.url,
      statementTimeoutMs: 10_000,
      poolSize: 1,
      preparedStatements,
    })
    const { db } = dialect
    await sql`create table "items" ("id" integer primary key, "v" text)`.execute(db)
    await sql`insert into "items" values (1, 'one'), (2, 'two'), (3, 'three')`.execute(db)
    return db
  }
  const readLiteral = async (db: Kysely<any>, id: number) =>
    (await sql<{ v: unknown }>`select "v" from "items" where "id" = ${sql.lit(id)}`.execute(db)).rows[0]?.v
  const readBound = async (db: Kysely<any>, id: number) =>
    (await sql<{ v: unknown }>`select "v" from "items" where "id" = ${id}`.execute(db)).rows[0]?.v
  const preparedCount = async (db: Kysely<any>, text?: string) => {
    const rows = (
      await sql<{ count: string }>`select count(*) as "count" from pg_prepared_statements`.execute(db)
    ).rows
    const all = Number(rows[0]!.count)
    if (text === undefined) return all
    const named = await sql<{ count: string }>`
      select count(*) as "count" from pg_prepared_statements where statement = ${text}`.execute(db)
    return Number(named.rows[0]!.count)
  }

  beforeEach(async (context) => {
    if (shouldSkip('postgres')) context.skip(postgresSkipReason())
    schema = await freshPostgresUrl()
  })
  afterEach(async () => {
    await dialect?.close()
    dialect = undefined
    await schema?.drop()
  })

  test('a statement with values is parsed once on its connection and answers each call', async () => {
    const db = await open(true)
    expect([
      await readBound(db, 1),
      await readBound(db, 2),
      await readBound(db, 3),
      await readBound(db, 4),
    ]).toEqual(['one', 'two', 'three', undefined])
    expect(await preparedCount(db, READ)).toBe(1)
  })

  test('statements without values, and every statement when turned off, are not prepared', async () => {
    const db = await open(false)
    expect(await readBound(db, 2)).toBe('two')
    expect(await readLiteral(db, 3)).toBe('three')
    expect(await preparedCount(db)).toBe(0)
  })

  test('a connection keeps its most recently used statements, and one let go is prepared again', async () => {
    const db = await open(true)
    const distinct = (i: number) =>
      sql<{ n: number }>`select ${i}::integer + ${sql.lit(i)} as "n"`.execute(db)
    for (let i = 0; i < PREPARED_PER_CONNECTION + 40; i++) expect((await distinct(i)).rows[0]!.n).toBe(2 * i)
    expect(await preparedCount(db)).toBeLessThanOrEqual(PREPARED_PER_CONNECTION)
    expect((await distinct(0)).rows[0]!.n).toBe(0)
    expect(await preparedCount(db)).toBeLessThanOrEqual(PREPARED_PER_CONNECTION)
  })

  test('a statement whose result changed type fails once as a stale schema, then is prepared afresh', async () => {
    const db = await open(true)
    expect(await readBound(db, 3)).toBe('three')
    await sql`alter table "items" alter column "v" type integer using length("v")`.execute(db)

    const failed = await readBound(db, 3).catch((error: unknown) => error)
    expect(dialect!.isStaleSchema(failed)).toBe(true)
    expect(await readBound(db, 3)).toBe(5)
  })
})
