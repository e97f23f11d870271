import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { Dialect } from '../db/index.js'
import { FilterError } from '../errors/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import { createFixture, data, postsContext } from '../test-support/query-fixtures.js'
import { compileFilter, evaluateFilter } from './index.js'

interface BadFilter {
  filter: string
  position: number
  message: string | RegExp
  hidden?: boolean
}

const sevenHops = 'author.mentor.mentor.mentor.mentor.mentor.mentor.name = "x"'

const badFilters: BadFilter[] = [
  // syntax
  { filter: 'title = "abc', position: 8, message: 'Unterminated string' },
  { filter: "title = 'abc", position: 8, message: 'Unterminated string' },
  { filter: '(title = "a"', position: 12, message: "Expected ')'" },
  { filter: 'title = "a")', position: 11, message: "Unexpected ')'" },
  { filter: 'title = "a" )(', position: 12, message: "Unexpected ')'" },
  { filter: '()', position: 1, message: 'Expected a comparison' },
  { filter: 'title =', position: 7, message: 'Expected a value' },
  { filter: 'title = "a" &&', position: 14, message: 'Expected a comparison' },
  { filter: '&& title = "a"', position: 0, message: 'Expected a comparison' },
  { filter: 'title = "a" || || views = 1', position: 15, message: 'Expected a comparison' },
  { filter: 'title "a"', position: 6, message: 'Expected a comparison operator' },
  { filter: 'views > 5 views < 3', position: 10, message: "Expected '&&', '||'" },
  { filter: 'title = "a" and views = 1', position: 12, message: "Expected '&&', '||'" },
  { filter: 'title = "a" & views = 1', position: 12, message: "Expected '&&'" },
  { filter: 'title == "a"', position: 7, message: 'Expected a value' },
  { filter: 'title ? "a"', position: 6, message: "Expected a comparison operator after '?'" },
  { filter: 'title = "\\q"', position: 9, message: 'Unknown escape sequence' },
  { filter: 'title = "\\u12"', position: 9, message: 'four hex digits' },
  { filter: 'views > 1.2.3', position: 11, message: 'Unexpected character "."' },
  { filter: 'views = - 1', position: 8, message: 'Unexpected character "-"' },
  { filter: 'views = 1e999', position: 8, message: 'out of range' },
  { filter: 'author. = 1', position: 7, message: "Expected a field name after '.'" },
  { filter: '@foo = 1', position: 0, message: 'Unknown macro @foo' },
  { filter: '@random = 1', position: 0, message: 'Unknown macro @random' },
  { filter: '@request.body = 1', position: 13, message: 'Expected a name after @request.body' },
  { filter: '@request.query.a.b = 1', position: 0, message: 'nested paths are not supported' },
  { filter: 'title:upper = "a"', position: 5, message: 'Unknown modifier :upper' },
  { filter: 'title:lower:lower = "a"', position: 11, message: 'repeated' },
  { filter: 'title = "x"; drop table posts; --"', position: 11, message: 'Unexpected character ";"' },
  { filter: 'title = "\\u0000"', position: 9, message: 'NUL characters are not allowed' },
  { filter: 'title = "a\u0000"', position: 10, message: 'NUL characters are not allowed' },
  // fields and visibility
  { filter: 'nope = 1', position: 0, message: 'Unknown field "nope"' },
  { filter: 'author.nope = 1', position: 7, message: 'Unknown field "nope"' },
  { filter: 'author.title = "x"', position: 7, message: 'Unknown field "title"' },
  { filter: 'secret = "x"', position: 0, message: /^Unknown field "secret" \(at position 0\)$/ },
  { filter: 'author.nickname = "x"', position: 7, message: /^Unknown field "nickname" \(at position 7\)$/ },
  { filter: 'pin = "x"', position: 0, message: 'Unknown field "pin"', hidden: true },
  { filter: 'title.name = "x"', position: 5, message: '"title" is not a relation' },
  { filter: sevenHops, position: 42, message: 'at most 6 relations' },
  { filter: '@request.body.nope.name = "x"', position: 14, message: 'Unknown field "nope"' },
  { filter: '@request.body.title.name = "x"', position: 19, message: '"title" is not a relation' },
  { filter: '@request.body.author.nope = "x"', position: 21, message: 'Unknown field "nope"' },
  { filter: '@request.body.author.nickname = "x"', position: 21, message: 'Unknown field "nickname"' },
  { filter: '@request.body.author.__proto__ = "x"', position: 21, message: '"__proto__" is a reserved name' },
  { filter: '@request.body.__proto__.name = "x"', position: 14, message: '"__proto__" is a reserved name' },
  { filter: '@request.body.secret.name = "x"', position: 14, message: 'Unknown field "secret"' },
  {
    filter: '@request.body.author.name:isset = true',
    position: 25,
    message: ':isset cannot be used on a path through @request.body',
  },
  // types
  { filter: 'title > 5', position: 8, message: 'Cannot compare "title" (text) with 5' },
  { filter: 'title ~ 5', position: 8, message: 'Cannot compare "title" (text) with 5' },
  { filter: 'views = "abc"', position: 8, message: 'expected a number' },
  { filter: 'published = "yes"', position: 12, message: 'expected true or false' },
  { filter: 'status = true', position: 9, message: 'expected a string' },
  { filter: 'published_at > "not a date"', position: 15, message: 'expected a date' },
  { filter: 'published_at = "2024-02-30"', position: 15, message: 'expected a date' },
  { filter: 'created < "2024-13-01"', position: 10, message: 'expected a date' },
  { filter: 'published_at > 5', position: 15, message: 'expected a date' },
  { filter: 'title = @now', position: 6, message: 'Cannot compare "title" (text) with a date value' },
  {
    filter: 'views = published',
    position: 6,
    message: 'Cannot compare "views" (number) with "published" (bool)',
  },
  { filter: 'views ~ "1"', position: 6, message: '~ compares text, not number' },
  { filter: 'tags:length ~ "1"', position: 12, message: '~ compares text, not number' },
  { filter: 'meta = "x"', position: 5, message: 'json field' },
  { filter: 'meta > null', position: 5, message: 'json field' },
  { filter: '1=1', position: 0, message: 'not two literals' },
  { filter: '"a" = "a" || title = "x"', position: 0, message: 'not two literals' },
  { filter: '@request.body.x:isset = "yes"', position: 24, message: 'expected true or false' },
  // modifiers
  { filter: 'title:length = 1', position: 5, message: ':length needs a multi-valued field' },
  { filter: 'title:each = "a"', position: 5, message: ':each needs a multi-valued field' },
  { filter: 'views:lower = 1', position: 5, message: ':lower needs text' },
  { filter: 'title:isset = true', position: 5, message: ':isset cannot be used on a field' },
  {
    filter: '@request.query.x:isset = true',
    position: 16,
    message: ':isset cannot be used on @request.query',
  },
  {
    filter: '@request.auth.id:changed = true',
    position: 16,
    message: ':changed cannot be used on @request.auth',
  },
  { filter: '@now:lower = "x"', position: 4, message: ':lower cannot be used on a date macro' },
  { filter: '"a":length = title', position: 3, message: ':length cannot be used on a literal' },
  { filter: '5:lower = title', position: 1, message: ':lower needs text' },
  { filter: 'tags:each ?= "a"', position: 10, message: ':each cannot be used with the any-of operator' },
  { filter: 'tags:length:lower = 1', position: 11, message: ':length cannot be combined with :lower' },
  { filter: 'tags ?= editors', position: 5, message: 'Only one side' },
  { filter: 'editors.name = tags', position: 13, message: 'Only one side' },
  // bounds
  { filter: 'x'.repeat(4097), position: 4096, message: 'longer than 4096 characters' },
  {
    filter: `${'('.repeat(33)}views = 1${')'.repeat(33)}`,
    position: 32,
    message: 'nested more than 32 levels',
  },
  { filter: `${'!'.repeat(33)}views = 1`, position: 32, message: 'nested more than 32 levels' },
  {
    filter: Array.from({ length: 201 }, () => 'views = 1').join(' || '),
    position: 2600,
    message: 'more than 200',
  },
]

describe.each(testDialects)('invalid filters on %s', (kind) => {
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

  test('the table has at least 40 invalid filters', () => {
    expect(badFilters.length).toBeGreaterThanOrEqual(40)
  })

  test.each(badFilters)('rejects $filter', ({ filter, position, message, hidden }) => {
    const ctx = postsContext(dialect, { canSeeHidden: hidden ?? false })
    for (const attempt of [
      () => compileFilter(filter, ctx),
      () => evaluateFilter(filter, data.posts[0]!, ctx),
    ]) {
      let error: unknown
      try {
        attempt()
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(FilterError)
      const filterError = error as FilterError
      expect(filterError.position).toBe(position)
      expect(filterError.status).toBe(400)
      expect(filterError.code).toBe('invalid_filter')
      if (typeof message === 'string') expect(filterError.message).toContain(message)
      else expect(filterError.message).toMatch(message)
    }
  })

  test('a hidden field is as unknown as a missing one, and visible to superusers', async () => {
    const anonymous = postsContext(dialect)
    const messageOf = (filter: string) => {
      try {
        compileFilter(filter, anonymous)
      } catch (error) {
        return (error as Error).message
      }
    }
    expect(messageOf('secret = "x"')).toBe(messageOf('nothere = "x"')?.replace('nothere', 'secret'))
    expect(() => compileFilter('secret = "x"', postsContext(dialect, { canSeeHidden: true }))).not.toThrow()
  })

  test('injection-looking input leaves the table intact', async () => {
    expect(() => compileFilter('title = "x"; drop table posts; --"', postsContext(dialect))).toThrow(
      FilterError,
    )
    const harmless = compileFilter('title = "x\\"; drop table posts; --"', postsContext(dialect))
    const rows = await dialect.db.selectFrom('posts as r').select('r.id').where(harmless).execute()
    expect(rows).toEqual([])
    const count = await dialect.db
      .selectFrom('posts')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    expect(Number(count.n)).toBe(8)
  })
})
