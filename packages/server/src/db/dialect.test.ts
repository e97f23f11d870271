import { sql } from 'kysely'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import type { Dialect, StorageKind } from './index.js'

const columns: Record<string, StorageKind> = {
  flag: 'boolean',
  data: 'json',
  tags: 'json',
  when: 'timestamp',
  count: 'number',
}

describe.each(testDialects)('dialect %s', (kind) => {
  let dialect: Dialect
  let close: () => Promise<void>
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    ;({ dialect, close } = await openTestDatabase(kind))
    let table = dialect.db.schema.createTable('things').addColumn('id', 'text', (c) => c.primaryKey())
    for (const [name, storage] of Object.entries(columns))
      table = table.addColumn(name, dialect.columnType(storage))
    await table.execute()
  })
  afterEach(async () => close?.())

  test('stores and reads back every column type', async () => {
    const row = {
      flag: true,
      data: { a: [1, 'x'] },
      tags: ['a', 'b'],
      when: '2024-05-01T10:00:00.000Z',
      count: 2.5,
    }
    const encoded: Record<string, unknown> = { id: 'r1' }
    for (const [name, value] of Object.entries(row)) encoded[name] = dialect.encode(columns[name]!, value)
    await dialect.db.insertInto('things').values(encoded).execute()
    const stored = await dialect.db.selectFrom('things').selectAll().executeTakeFirstOrThrow()
    const decoded: Record<string, unknown> = {}
    for (const name of Object.keys(row)) decoded[name] = dialect.decode(columns[name]!, stored[name])
    expect(decoded).toEqual(row)
  })

  test('jsonEach and jsonArrayLength read a multi select', async () => {
    await dialect.db
      .insertInto('things')
      .values({ id: 'r1', tags: dialect.encode('json', ['a', 'b']) })
      .execute()
    const result = await sql<{
      n: number
      v: string
    }>`select ${dialect.jsonArrayLength(sql.ref('tags'))} as n,
      (select max(e.value) from ${dialect.jsonEach(sql.ref('things.tags'), 'e')}) as v from things`.execute(
      dialect.db,
    )
    expect(result.rows[0]).toEqual({ n: 2, v: 'b' })
  })

  test('a failed schema change leaves nothing behind', async () => {
    await expect(
      dialect.schemaChange(async (trx) => {
        await trx.schema.createTable('half').addColumn('id', 'text').execute()
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    const tables = await dialect.db.introspection.getTables()
    expect(tables.map((t) => t.name)).not.toContain('half')
  })

  test('reports unique violations with their columns', async () => {
    await dialect.db.schema.createIndex('things_count').unique().on('things').column('count').execute()
    await dialect.db.insertInto('things').values({ id: 'a', count: 1 }).execute()
    const error = await dialect.db
      .insertInto('things')
      .values({ id: 'b', count: 1 })
      .execute()
      .catch((e) => e)
    expect(dialect.constraintViolation(error)).toMatchObject({ kind: 'unique', columns: ['count'] })
  })

  test('a write transaction that loses a deadlock runs again, so both commit', async () => {
    await dialect.db
      .insertInto('things')
      .values([{ id: 'a' }, { id: 'b' }])
      .execute()
    // Each transaction signals when it holds its first row, then waits (once, briefly) for
    // the other to hold its own: on PostgreSQL they then cross and one is the deadlock's
    // victim; SQLite runs them one after the other.
    const holding = { a: signal(), b: signal() }
    let attempts = 0
    const crossing = (first: 'a' | 'b', second: 'a' | 'b', count: number) =>
      dialect.transaction(async (trx) => {
        attempts++
        await trx.updateTable('things').set({ count }).where('id', '=', first).execute()
        holding[first].resolve()
        await Promise.race([holding[second].promise, new Promise((resolve) => setTimeout(resolve, 300))])
        await trx.updateTable('things').set({ count }).where('id', '=', second).execute()
        return count
      })
    expect(await Promise.all([crossing('a', 'b', 1), crossing('b', 'a', 2)])).toEqual([1, 2])
    const counts = await dialect.db.selectFrom('things').select('count').execute()
    const winner = counts[0]!.count
    expect(counts.map((row) => row.count)).toEqual([winner, winner])
    expect(attempts).toBe(dialect.supports.rowLocks ? 3 : 2)
  })
})

function signal() {
  let resolve!: () => void
  const promise = new Promise<void>((settle) => {
    resolve = settle
  })
  return { promise, resolve }
}
