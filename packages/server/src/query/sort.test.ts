import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { Dialect } from '../db/index.js'
import { FilterError } from '../errors/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import { createFixture, postsContext } from '../test-support/query-fixtures.js'
import { compileFilter, compileSort } from './index.js'

const orders = [
  { sort: 'views', expected: ['p5', 'p4', 'p3', 'p8', 'p1', 'p7', 'p2', 'p6'] },
  { sort: '-views', expected: ['p6', 'p2', 'p1', 'p7', 'p8', 'p3', 'p4', 'p5'] },
  { sort: '+views', expected: ['p5', 'p4', 'p3', 'p8', 'p1', 'p7', 'p2', 'p6'] },
  { sort: 'title', expected: ['p5', 'p7', 'p2', 'p8', 'p1', 'p6', 'p3', 'p4'] },
  { sort: '-title', expected: ['p4', 'p3', 'p6', 'p1', 'p8', 'p2', 'p7', 'p5'] },
  { sort: 'published,-views', expected: ['p4', 'p2', 'p8', 'p5', 'p6', 'p1', 'p7', 'p3'] },
  { sort: ' -published , views ', expected: ['p3', 'p1', 'p7', 'p6', 'p5', 'p8', 'p2', 'p4'] },
  { sort: 'published_at', expected: ['p2', 'p7', 'p3', 'p1', 'p5', 'p8', 'p6', 'p4'] },
  { sort: 'status', expected: ['p3', 'p5', 'p1', 'p4', 'p7', 'p2', 'p6', 'p8'] },
  { sort: '-created', expected: ['p8', 'p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1'] },
  { sort: '-id', expected: ['p8', 'p7', 'p6', 'p5', 'p4', 'p3', 'p2', 'p1'] },
  { sort: 'author', expected: ['p3', 'p1', 'p6', 'p8', 'p2', 'p7', 'p4', 'p5'] },
  { sort: 'author.name', expected: ['p3', 'p5', 'p1', 'p6', 'p8', 'p2', 'p7', 'p4'] },
  { sort: '-author.company.name,id', expected: ['p2', 'p7', 'p1', 'p5', 'p6', 'p8', 'p3', 'p4'] },
  { sort: 'author.mentor.name,-views', expected: ['p6', 'p1', 'p8', 'p3', 'p2', 'p7', 'p4', 'p5'] },
  { sort: '', expected: ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8'] },
]

const nineKeys = 'title,views,published,published_at,status,author,created,updated,link'

const badSorts = [
  { sort: 'nope', position: 0, message: 'Unknown field "nope"' },
  { sort: 'views,-nope', position: 7, message: 'Unknown field "nope"' },
  { sort: 'author.nope', position: 7, message: 'Unknown field "nope"' },
  { sort: 'secret', position: 0, message: 'Unknown field "secret"' },
  { sort: 'pin', position: 0, message: 'Unknown field "pin"' },
  { sort: 'tags', position: 0, message: 'holds several values' },
  { sort: 'views, editors.name', position: 7, message: 'holds several values' },
  { sort: 'meta', position: 0, message: 'json' },
  { sort: 'views,,title', position: 6, message: 'Expected a field name' },
  { sort: 'views,', position: 6, message: 'Expected a field name' },
  { sort: ',views', position: 0, message: 'Expected a field name' },
  { sort: '-', position: 0, message: 'Expected a field name' },
  { sort: 'title desc', position: 0, message: 'Expected a field name' },
  { sort: 'views; drop table posts', position: 0, message: 'Expected a field name' },
  { sort: 'views, views', position: 7, message: 'sorted on twice' },
  { sort: 'title.name', position: 5, message: 'not a relation' },
  { sort: `${nineKeys}`, position: nineKeys.indexOf('link'), message: 'At most 8 sort keys' },
  { sort: 'x'.repeat(1025), position: 1024, message: 'longer than 1024' },
]

describe.each(testDialects)('compileSort on %s', (kind) => {
  let dialect: Dialect
  let close: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    ;({ dialect, close } = await openTestDatabase(kind))
    await createFixture(dialect)
  })
  afterAll(async () => close?.())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  async function sorted(sort: string, canSeeHidden = false): Promise<string[]> {
    let query = dialect.db.selectFrom('posts as r').select('r.id')
    for (const item of compileSort(sort, postsContext(dialect, { canSeeHidden }))) {
      query = query.orderBy(item.expression, item.direction)
    }
    return (await query.execute()).map((row) => row.id as string)
  }

  test.each(orders)(
    'orders by "$sort" with nulls first ascending and id last',
    async ({ sort, expected }) => {
      expect(await sorted(sort)).toEqual(expected)
    },
  )

  test('superusers may sort by hidden fields', async () => {
    expect((await sorted('-secret', true)).slice(0, 2)).toEqual(['p3', 'p1'])
  })

  test('@random keeps every row and still ends with id', async () => {
    const items = compileSort('@random', postsContext(dialect))
    expect(items).toHaveLength(2)
    expect(new Set(await sorted('@random'))).toEqual(
      new Set(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']),
    )
  })

  test('appends id only when it is not already sorted on', () => {
    expect(compileSort('', postsContext(dialect))).toHaveLength(1)
    expect(compileSort('-id', postsContext(dialect))).toEqual([
      expect.objectContaining({ direction: 'desc' }),
    ])
    expect(compileSort('-created', postsContext(dialect)).map((i) => i.direction)).toEqual(['desc', 'asc'])
  })

  test('combines with a filter in one query', async () => {
    const ctx = postsContext(dialect)
    let query = dialect.db
      .selectFrom('posts as r')
      .select('r.id')
      .where(compileFilter('editors.name ?= "Alice"', ctx))
    for (const item of compileSort('-author.name', ctx))
      query = query.orderBy(item.expression, item.direction)
    expect((await query.execute()).map((r) => r.id)).toEqual(['p4', 'p2', 'p8'])
  })

  test.each(badSorts)('rejects "$sort"', ({ sort, position, message }) => {
    let error: unknown
    try {
      compileSort(sort, postsContext(dialect))
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(FilterError)
    expect((error as FilterError).position).toBe(position)
    expect((error as FilterError).code).toBe('invalid_sort')
    expect((error as FilterError).fields?.sort?.message).toContain(message)
  })
})
