import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { Dialect } from '../db/index.js'
import { FilterError } from '../errors/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import { createFixture, data, postsContext, signedIn } from '../test-support/query-fixtures.js'
import type { FilterNode } from './filter-ast.js'
import type { FilterContext } from './filter-context.js'
import { compileFilter, evaluateFilter } from './index.js'

type Row = Record<string, unknown>

interface Scenario {
  filter: string
  expected: string[]
  auth?: boolean
  body?: Row
  query?: Row
  existing?: Row
  hidden?: boolean
}

const all = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']
const except = (...ids: string[]) => all.filter((id) => !ids.includes(id))

const scenarios: Scenario[] = [
  // text
  { filter: 'title = "Hello World"', expected: ['p1'] },
  { filter: "title = 'Hello World'", expected: ['p1'] },
  { filter: 'title = "hello world"', expected: [] },
  { filter: 'title != "Hello World"', expected: except('p1') },
  { filter: 'title = null', expected: ['p5'] },
  { filter: 'title != null', expected: except('p5') },
  { filter: 'title = ""', expected: ['p7'] },
  { filter: 'title = "100% pure"', expected: ['p2'] },
  { filter: 'title ~ "hello"', expected: ['p1', 'p8'] },
  { filter: 'title !~ "hello"', expected: except('p1', 'p8') },
  { filter: 'title ~ "%"', expected: ['p2'] },
  { filter: 'title ~ "_"', expected: ['p3'] },
  { filter: 'title ~ "0%"', expected: ['p2'] },
  { filter: 'title ~ "\\\\"', expected: ['p6'] },
  { filter: 'title ~ ""', expected: except('p5') },
  { filter: 'title ~ "Ünï"', expected: ['p4'] },
  { filter: 'title ~ "✓ OK"', expected: ['p4'] },
  { filter: 'title > "a"', expected: ['p3', 'p4', 'p6'] },
  { filter: 'title <= "HELLO again"', expected: ['p2', 'p7', 'p8'] },
  { filter: 'title:lower = "hello world"', expected: ['p1'] },
  { filter: 'title:lower ~ "again"', expected: ['p8'] },
  { filter: 'title:lower = "HELLO AGAIN":lower', expected: ['p8'] },
  { filter: 'link ~ "a_b"', expected: ['p1'] },
  { filter: 'id = "p3"', expected: ['p3'] },
  { filter: 'id > "p6"', expected: ['p7', 'p8'] },
  { filter: 'title = "x\\"; drop table posts; --"', expected: [] },
  // numbers
  { filter: 'views > 10', expected: ['p2', 'p6'] },
  { filter: 'views >= 10', expected: ['p1', 'p2', 'p6', 'p7'] },
  { filter: 'views < 10', expected: ['p3', 'p4', 'p8'] },
  { filter: 'views <= 0', expected: ['p3', 'p4'] },
  { filter: 'views = 10', expected: ['p1', 'p7'] },
  { filter: 'views != 10', expected: except('p1', 'p7') },
  { filter: 'views = null', expected: ['p5'] },
  { filter: 'views > -6', expected: except('p5') },
  { filter: 'views = "10"', expected: ['p1', 'p7'] },
  { filter: 'views > 3.2 && views < 3.3', expected: ['p8'] },
  { filter: 'views > 1e5', expected: ['p6'] },
  { filter: '10 < views', expected: ['p2', 'p6'] },
  { filter: 'views ?> 100', expected: ['p2', 'p6'] },
  // booleans
  { filter: 'published = true', expected: ['p1', 'p3', 'p6', 'p7'] },
  { filter: 'published = false', expected: ['p2', 'p5', 'p8'] },
  { filter: 'published != true', expected: ['p2', 'p4', 'p5', 'p8'] },
  { filter: 'published = null', expected: ['p4'] },
  { filter: 'published > false', expected: ['p1', 'p3', 'p6', 'p7'] },
  // dates
  { filter: 'published_at > "2024-06-01"', expected: ['p4', 'p5', 'p6', 'p8'] },
  { filter: 'published_at < @now', expected: ['p1', 'p3', 'p5'] },
  { filter: 'published_at <= @now', expected: ['p1', 'p3', 'p5', 'p8'] },
  { filter: 'published_at = "2024-06-01 12:00:00"', expected: ['p8'] },
  { filter: 'published_at >= @todayStart && published_at <= @todayEnd', expected: ['p5', 'p8'] },
  { filter: 'published_at = null', expected: ['p2', 'p7'] },
  { filter: 'published_at > "2024-01-15T11:00:00+02:00"', expected: ['p1', 'p4', 'p5', 'p6', 'p8'] },
  { filter: 'created > "2024-02-06"', expected: ['p7', 'p8'] },
  { filter: 'created = updated', expected: all },
  { filter: 'created < updated', expected: [] },
  { filter: '@now > "2024-01-01"', expected: all },
  // single select, json
  { filter: 'status = "draft"', expected: ['p1', 'p4', 'p7'] },
  { filter: 'status != "draft"', expected: ['p2', 'p3', 'p5', 'p6', 'p8'] },
  { filter: 'status = null', expected: ['p3'] },
  { filter: 'meta = null', expected: ['p2', 'p4', 'p5', 'p7', 'p8'] },
  { filter: 'meta != null', expected: ['p1', 'p3', 'p6'] },
  // multi select
  { filter: 'tags ?= "news"', expected: ['p1', 'p4', 'p6', 'p8'] },
  { filter: 'tags = "news"', expected: ['p4'] },
  { filter: 'tags ?!= "news"', expected: ['p1', 'p2', 'p6', 'p7', 'p8'] },
  { filter: 'tags != "news"', expected: ['p2', 'p7'] },
  { filter: 'tags:each != "news"', expected: ['p2', 'p7'] },
  { filter: 'tags:each ~ "e"', expected: ['p1', 'p2', 'p4', 'p8'] },
  { filter: 'tags:each:lower = "news"', expected: ['p4'] },
  { filter: 'tags:length = 0', expected: ['p3', 'p5'] },
  { filter: 'tags:length >= 2', expected: ['p1', 'p6', 'p7', 'p8'] },
  { filter: 'tags:length > 1.5', expected: ['p1', 'p6', 'p7', 'p8'] },
  { filter: 'tags = null', expected: ['p3', 'p5'] },
  { filter: 'tags != null', expected: except('p3', 'p5') },
  { filter: 'tags ?~ "%"', expected: ['p7'] },
  { filter: 'tags ?= "NEWS"', expected: [] },
  { filter: 'tags ?= "NEWS":lower', expected: ['p1', 'p4', 'p6', 'p8'] },
  { filter: 'tags ?> "n"', expected: ['p1', 'p2', 'p4', 'p6', 'p8'] },
  // single relations
  { filter: 'author = "a1"', expected: ['p1', 'p6', 'p8'] },
  { filter: 'author = null', expected: ['p3'] },
  { filter: 'author.name = "Alice"', expected: ['p1', 'p6', 'p8'] },
  { filter: 'author.name != "Alice"', expected: ['p2', 'p3', 'p4', 'p5', 'p7'] },
  { filter: 'author.name = null', expected: ['p3', 'p5'] },
  { filter: 'author.age > 25', expected: ['p1', 'p2', 'p6', 'p7', 'p8'] },
  { filter: 'author.active = true', expected: ['p1', 'p4', 'p6', 'p8'] },
  { filter: 'author.company.name = "Acme"', expected: ['p1', 'p5', 'p6', 'p8'] },
  { filter: 'author.company.name = null', expected: ['p3', 'p4'] },
  { filter: 'author.mentor.name = "Alice"', expected: ['p2', 'p7'] },
  { filter: 'author.mentor.mentor.name = "Alice"', expected: ['p4'] },
  { filter: 'author.mentor.mentor.mentor.name = "Alice"', expected: ['p5'] },
  { filter: 'author.mentor.mentor.mentor.mentor.mentor.name = "Alice"', expected: [] },
  { filter: 'status = "live" && author.name = "Bob"', expected: ['p2'] },
  { filter: 'author.nickname = "al"', expected: ['p1', 'p6', 'p8'], hidden: true },
  { filter: 'secret = "s1"', expected: ['p1'], hidden: true },
  // multi relations
  { filter: 'editors ?= "a1"', expected: ['p2', 'p4', 'p8'] },
  { filter: 'editors = "a1"', expected: ['p2'] },
  { filter: 'editors:length = 0', expected: ['p3', 'p6'] },
  { filter: 'editors:length > 1', expected: ['p1', 'p4', 'p8'] },
  { filter: 'editors.name ?= "Alice"', expected: ['p2', 'p4', 'p8'] },
  { filter: 'editors.name:lower ?= "alice"', expected: ['p2', 'p4', 'p8'] },
  { filter: 'editors.name ?~ "o"', expected: ['p1', 'p4', 'p7', 'p8'] },
  { filter: 'editors.age ?> 40', expected: ['p1', 'p4'] },
  { filter: 'editors.age > 20', expected: ['p2', 'p4', 'p5'] },
  { filter: 'editors.company.name ?= "Acme"', expected: ['p2', 'p4', 'p5', 'p8'] },
  { filter: 'editors.company.name ?= null', expected: ['p1', 'p7', 'p8'] },
  { filter: 'editors.company.name = null', expected: ['p3', 'p6'] },
  { filter: 'editors.mentor.name ?= "Alice"', expected: ['p1', 'p4'] },
  { filter: 'editors ?= author', expected: ['p5', 'p8'] },
  { filter: 'views = editors:length', expected: ['p3'] },
  // field against field
  { filter: 'status ~ "a" && title !~ status', expected: ['p1', 'p4', 'p5', 'p7'] },
  { filter: '"Hello World, a draft" ~ status', expected: ['p1', 'p4', 'p7'] },
  { filter: 'title != status', expected: all },
  // request data
  { filter: '@request.auth.id != ""', expected: [] },
  { filter: '@request.auth.id = ""', expected: all },
  { filter: '@request.auth.id != ""', expected: all, auth: true },
  { filter: '@request.auth.id = ""', expected: [], auth: true },
  { filter: '@request.body.title != ""', expected: [] },
  { filter: '@request.body.title != ""', expected: all, body: { title: 'x' } },
  { filter: '@request.auth.id = null', expected: all },
  { filter: '@request.auth.id = null', expected: [], auth: true },
  { filter: 'author.company = @request.auth.company', expected: ['p1', 'p5', 'p6', 'p8'], auth: true },
  { filter: 'author.company = @request.auth.company', expected: ['p3', 'p4'] },
  { filter: '@request.auth.company.name = "Acme"', expected: all, auth: true },
  { filter: '@request.auth.company.name = "Acme"', expected: [] },
  {
    filter: '@request.auth.collectionName = "users" && published = true',
    expected: ['p1', 'p3', 'p6', 'p7'],
    auth: true,
  },
  { filter: '@request.auth.password = null', expected: all, auth: true },
  { filter: '@request.body.title:isset = false || views > 100', expected: all },
  {
    filter: '@request.body.title:isset = false || views > 100',
    expected: ['p2', 'p6'],
    body: { title: 'x' },
  },
  { filter: 'title = @request.body.title', expected: ['p1'], body: { title: 'Hello World' } },
  { filter: 'title = @request.body.title', expected: ['p5'] },
  { filter: 'views > @request.query.min', expected: ['p2', 'p6'], query: { min: '100' } },
  { filter: 'published = @request.query.flag', expected: ['p1', 'p3', 'p6', 'p7'], query: { flag: 'true' } },
  {
    filter: '@request.body.title:changed = true',
    expected: all,
    body: { title: 'New' },
    existing: { title: 'Old' },
  },
  {
    filter: '@request.body.title:changed = true',
    expected: [],
    body: { title: 'Old' },
    existing: { title: 'Old' },
  },
  { filter: 'tags ?= @request.body.tags', expected: ['p6', 'p7'], body: { tags: ['misc', 'zzz'] } },
  {
    filter: '@request.body.tags:length = 2 && views = 10',
    expected: ['p1', 'p7'],
    body: { tags: ['a', 'b'] },
  },
  { filter: '@request.body.tags:each = "misc"', expected: all, body: { tags: ['misc'] } },
  { filter: 'title != @request.body.nul', expected: all, body: { nul: 'a\u0000' } },
  { filter: 'status = @request.body.n', expected: [], body: { n: 5 } },
  { filter: 'status != @request.body.n', expected: all, body: { n: 5 } },
  { filter: 'title ?= @request.body.titles', expected: ['p2', 'p7'], body: { titles: ['100% pure', ''] } },
  { filter: 'title = @request.body.titles', expected: [], body: { titles: ['100% pure', ''] } },
  // the records a relation of the body names
  { filter: 'author = @request.body.author.mentor', expected: ['p1', 'p6', 'p8'], body: { author: 'a2' } },
  {
    filter: 'author.company = @request.body.author.company',
    expected: ['p1', 'p5', 'p6', 'p8'],
    body: { author: 'A4' },
  },
  { filter: '@request.body.author.company.name = "Globex"', expected: all, body: { author: 'a2' } },
  {
    filter: '@request.body.author.name = "Bob" && views = 10',
    expected: ['p1', 'p7'],
    body: { author: 'a2' },
  },
  { filter: '@request.body.author.name = null', expected: all },
  { filter: '@request.body.author.name = null', expected: all, body: { author: 'nope' } },
  { filter: '@request.body.author.name != null', expected: [], body: { author: 42 } },
  { filter: '@request.body.author.name != null', expected: [], body: { author: ['a2'] } },
  { filter: '@request.body.author.name != null', expected: [], body: { author: 'a2\u0000' } },
  { filter: '@request.body.editors.name ?= "Bob"', expected: all, body: { editors: ['a1', 'a2'] } },
  { filter: '@request.body.editors.name ?= "Bob"', expected: all, body: { editors: 'a2' } },
  { filter: '@request.body.editors.name = "Bob"', expected: [], body: { editors: ['a1', 'a2'] } },
  { filter: '@request.body.editors.age > 20', expected: all, body: { editors: ['a1', 'a2', 'zz'] } },
  { filter: '@request.body.editors.id:length = 2', expected: all, body: { editors: ['a1', 'a2', 'zz', 7] } },
  { filter: '@request.body.editors.name = null', expected: all, body: { editors: [] } },
  {
    filter: '@request.body.editors.name ?= author.name',
    expected: ['p1', 'p2', 'p6', 'p7', 'p8'],
    body: { editors: ['a1', 'a2'] },
  },
  // negation, precedence, parentheses
  { filter: '!(views > 10)', expected: ['p1', 'p3', 'p4', 'p5', 'p7', 'p8'] },
  { filter: '!(title ~ "hello")', expected: except('p1', 'p8') },
  { filter: '!!(views = 10)', expected: ['p1', 'p7'] },
  { filter: '!(author.name = "Alice")', expected: ['p2', 'p3', 'p4', 'p5', 'p7'] },
  { filter: '!(editors.age > 20)', expected: ['p1', 'p3', 'p6', 'p7', 'p8'] },
  { filter: 'views = 10 || views = 0 && published = false', expected: ['p1', 'p7'] },
  { filter: '(views = 10 || views = 0) && published = true', expected: ['p1', 'p3', 'p7'] },
  { filter: '!views = 10 || status = "live"', expected: ['p2', 'p3', 'p4', 'p5', 'p6', 'p8'] },
  { filter: '!(status = "draft" || status = "live")', expected: ['p3', 'p5'] },
  { filter: 'views > 10 && !(tags ?= "misc")', expected: ['p2'] },
  { filter: 'views >= 10 && views <= 250 && published = true', expected: ['p1', 'p7'] },
  { filter: '((((title = "Hello World"))))', expected: ['p1'] },
  { filter: '   ', expected: all },
]

function contextFor(dialect: Dialect, scenario: Partial<Scenario> = {}): FilterContext {
  return postsContext(dialect, {
    canSeeHidden: scenario.hidden ?? false,
    request: {
      auth: scenario.auth ? signedIn : null,
      body: scenario.body ?? {},
      query: scenario.query ?? {},
      existing: scenario.existing,
    },
  })
}

describe.each(testDialects)('compileFilter on %s', (kind) => {
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

  async function matching(filter: string | FilterNode, ctx: FilterContext): Promise<string[]> {
    const rows = await dialect.db
      .selectFrom('posts as r')
      .select('r.id')
      .where(compileFilter(filter, ctx))
      .orderBy('r.id')
      .execute()
    return rows.map((row) => row.id as string)
  }

  test('the table has at least 80 scenarios', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(80)
  })

  test.each(scenarios)('$filter', async (scenario) => {
    const ctx = contextFor(dialect, scenario)
    expect(await matching(scenario.filter, ctx)).toEqual(scenario.expected)
    const inMemory = data.posts.filter((post) => evaluateFilter(scenario.filter, post, ctx)).map((p) => p.id)
    expect(inMemory).toEqual(scenario.expected)
  })

  test('binds every literal as a parameter', () => {
    const compiled =
      sql`select 1 from posts as r where ${compileFilter('title = "x\'; drop" && views > 5', contextFor(dialect))}`.compile(
        dialect.db,
      )
    expect(compiled.sql).not.toContain('drop')
    expect(compiled.parameters).toEqual(["x'; drop", 5])
  })

  test('binds the ids a relation of the body names', () => {
    const ctx = contextFor(dialect, { body: { author: "a1'; drop" } })
    const compiled =
      sql`select 1 from posts as r where ${compileFilter('@request.body.author.name = "x"', ctx)}`.compile(
        dialect.db,
      )
    expect(compiled.sql).not.toContain('drop')
    expect(compiled.parameters).toEqual(["a1'; drop", 'x'])
  })

  test('accepts a tree as well as text', async () => {
    const tree: FilterNode = {
      kind: 'comparison',
      operator: '=',
      anyOf: false,
      left: { kind: 'field', path: ['views'], modifiers: [], position: 0 },
      right: { kind: 'literal', value: 10, modifiers: [], position: 0 },
      position: 0,
    }
    expect(await matching(tree, contextFor(dialect))).toEqual(['p1', 'p7'])
    expect(await matching({ kind: 'not', operand: tree, position: 0 }, contextFor(dialect))).toEqual(
      except('p1', 'p7'),
    )
  })

  test('bounds a tree built by code like parsed text', () => {
    let deep: FilterNode = { kind: 'and', operands: [], position: 0 }
    for (let i = 0; i < 200; i++) deep = { kind: 'not', operand: deep, position: 0 }
    expect(() => compileFilter(deep, contextFor(dialect))).toThrow(FilterError)
    const term: FilterNode = {
      kind: 'comparison',
      operator: '=',
      anyOf: false,
      left: { kind: 'field', path: ['views'], modifiers: [], position: 0 },
      right: { kind: 'literal', value: 1, modifiers: [], position: 0 },
      position: 0,
    }
    const wide: FilterNode = { kind: 'or', operands: Array.from({ length: 201 }, () => term), position: 0 }
    expect(() => compileFilter(wide, contextFor(dialect))).toThrow(/more than 200 comparisons/)
  })

  test('uses the caller alias for the outer table', async () => {
    const ctx = { ...contextFor(dialect), alias: 't1' }
    const rows = await dialect.db
      .selectFrom('posts as t1')
      .select('t1.id')
      .where(compileFilter('author.name = "Bob" && editors.name ?= "Chloé"', ctx))
      .execute()
    expect(rows.map((r) => r.id)).toEqual(['p7'])
  })
})
