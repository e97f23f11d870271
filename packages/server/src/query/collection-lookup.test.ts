import { sql } from 'kysely'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import type { CollectionDefinition } from '../collections/types.js'
import type { Dialect } from '../db/index.js'
import { FilterError } from '../errors/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import { collection, createTables, field, insertRecords } from '../test-support/query-fixtures.js'
import type { EvaluationContext, FilterContext } from './filter-context.js'
import { compileFilter, compileSort, evaluateFilter, parseFilter } from './index.js'

type Row = Record<string, unknown>

const teams = { ...collection('teams', [field('teams', 'name', 'text')]), viewRule: 'name != "Hidden"' }
const users = collection(
  'users',
  [
    field('users', 'email', 'email', { system: true }),
    field('users', 'emailVisibility', 'bool', { system: true }),
    field('users', 'name', 'text'),
    field('users', 'password', 'password', { system: true, hidden: true }),
  ],
  'auth',
)
const members = {
  ...collection('members', [
    field('members', 'user', 'relation', { collection: 'users', maxSelect: 1 }),
    field('members', 'team', 'relation', { collection: 'teams', maxSelect: 1 }),
    field('members', 'role', 'select', { values: ['owner', 'viewer'], maxSelect: 1 }),
    field('members', 'labels', 'select', { values: ['a', 'b', 'c'], maxSelect: 3 }),
    field('members', 'note', 'text', { hidden: true }),
  ]),
  viewRule: null,
}
const docs = collection('docs', [
  field('docs', 'title', 'text'),
  field('docs', 'team', 'relation', { collection: 'teams', maxSelect: 1 }),
  field('docs', 'reviewers', 'relation', { collection: 'users', maxSelect: 3 }),
  field('docs', 'log', 'relation', { collection: 'members', maxSelect: 1 }),
])
const definitions: Record<string, CollectionDefinition> = { teams, users, members, docs }

const data: Record<string, Row[]> = {
  teams: [
    { id: 't1', name: 'Red' },
    { id: 't2', name: 'Blue' },
    { id: 't3', name: 'Green' },
    { id: 't4', name: 'Hidden' },
  ],
  users: [
    { id: 'u1', email: 'ada@example.com', emailVisibility: true, name: 'Ada', password: 'h1' },
    { id: 'u2', email: 'bob@example.com', emailVisibility: false, name: 'Bob', password: 'h2' },
    { id: 'u3', email: 'cy@example.com', emailVisibility: false, name: 'Cy', password: 'h3' },
  ],
  members: [
    { id: 'm1', user: 'u1', team: 't1', role: 'owner', labels: ['a', 'b'], note: 'n1' },
    { id: 'm2', user: 'u1', team: 't2', role: 'viewer', labels: [], note: null },
    { id: 'm3', user: 'u2', team: 't1', role: 'viewer', labels: ['b'], note: null },
    { id: 'm4', user: 'u2', team: 't3', role: 'owner', labels: ['c'], note: 'n4' },
  ],
  docs: [
    { id: 'd1', title: 'one', team: 't1', reviewers: ['u1', 'u2'], log: null },
    { id: 'd2', title: 'two', team: 't2', reviewers: ['u2'], log: 'm1' },
    { id: 'd3', title: 'three', team: 't3', reviewers: [], log: null },
    { id: 'd4', title: 'four', team: null, reviewers: ['u3'], log: null },
    { id: 'd5', title: 'five', team: 't4', reviewers: [], log: null },
  ],
}
for (const rows of Object.values(data)) {
  for (const row of rows)
    Object.assign(row, { created: '2024-01-01T00:00:00.000Z', updated: '2024-01-01T00:00:00.000Z' })
}

const all = ['d1', 'd2', 'd3', 'd4', 'd5']
const auth = (id: string) => ({ collection: users, record: data.users!.find((u) => u.id === id)! })

interface Scenario {
  name: string
  filter: string
  expected: string[]
  as?: string
  /** A caller's own filter instead of a rule. */
  untrusted?: boolean
  on?: CollectionDefinition
}

const scenarios: Scenario[] = [
  {
    name: 'one row matches both comparisons',
    filter: '@collection.members.user ?= @request.auth.id && @collection.members.team ?= team',
    as: 'u1',
    expected: ['d1', 'd2'],
  },
  {
    name: 'the same rule for another user',
    filter: '@collection.members.user ?= @request.auth.id && @collection.members.team ?= team',
    as: 'u2',
    expected: ['d1', 'd3'],
  },
  {
    name: 'three comparisons on one row',
    filter:
      '@collection.members.user ?= @request.auth.id && @collection.members.role ?= "owner" && @collection.members.team ?= team',
    as: 'u2',
    expected: ['d3'],
  },
  {
    name: 'aliases are rows of their own',
    filter:
      '@collection.members:mine.user ?= @request.auth.id && @collection.members:mine.team ?= team && ' +
      '@collection.members:boss.team ?= team && @collection.members:boss.role ?= "owner"',
    as: 'u2',
    expected: ['d1', 'd3'],
  },
  {
    name: 'nested && chains share the row too',
    filter:
      '(@collection.members.user ?= @request.auth.id && title != "x") && @collection.members.team ?= team',
    as: 'u1',
    expected: ['d1', 'd2'],
  },
  {
    name: 'negation of a shared row',
    filter: '!(@collection.members.user ?= @request.auth.id && @collection.members.team ?= team)',
    as: 'u1',
    expected: ['d3', 'd4', 'd5'],
  },
  {
    name: '|| does not share rows',
    filter: '@collection.members.user ?= "u9" || @collection.members.team ?= team',
    expected: ['d1', 'd2', 'd3'],
  },
  {
    name: 'anonymous has no id to match',
    filter: '@collection.members.user ?= @request.auth.id',
    expected: [],
  },
  {
    name: 'a lone any-of comparison',
    filter: '@collection.members.team ?= team',
    expected: ['d1', 'd2', 'd3'],
  },
  { name: 'plain operator: every row', filter: '@collection.members.role = "owner"', expected: [] },
  { name: 'plain operator: every row holds', filter: '@collection.members.team != null', expected: all },
  { name: 'plain operator against the record', filter: '@collection.members.team = team', expected: [] },
  { name: ':length counts rows', filter: '@collection.members.id:length = 4', expected: all },
  { name: ':length counts elements', filter: '@collection.members.labels:length = 4', expected: all },
  {
    name: 'a multi select within one row',
    filter: '@collection.members.labels ?= "b" && @collection.members.team ?= team',
    expected: ['d1'],
  },
  {
    name: 'two elements of one row',
    filter: '@collection.members.labels ?= "c" && @collection.members.labels ?= "a"',
    expected: [],
  },
  {
    name: 'two elements of two rows',
    filter: '@collection.members:x.labels ?= "c" && @collection.members:y.labels ?= "a"',
    expected: all,
  },
  {
    name: 'relations after @collection',
    filter: '@collection.members.user.name ?= "Bob" && @collection.members.team ?= team',
    expected: ['d1', 'd3'],
  },
  {
    name: 'relations after @collection, to the record',
    filter: '@collection.members.team.name ?= "Blue" && @collection.members.team ?= team',
    expected: ['d2'],
  },
  {
    name: 'hidden fields in rules',
    filter: '@collection.members.note ?= "n1" && @collection.members.team ?= team',
    expected: ['d1'],
  },
  {
    name: 'against a multi relation of the record',
    filter:
      '@collection.members.role ?= "owner" && @collection.members.user ?= @request.auth.id && reviewers ?= @request.auth.id',
    as: 'u2',
    expected: ['d1', 'd2'],
  },
  // An ordinary caller's paths pass the related collection's view rule.
  {
    name: 'visible related records',
    filter: 'team.name ~ "e"',
    untrusted: true,
    expected: ['d1', 'd2', 'd3'],
  },
  {
    name: 'a hidden related record is null',
    filter: 'team.name = null',
    untrusted: true,
    expected: ['d4', 'd5'],
  },
  { name: 'rules see every related record', filter: 'team.name = null', expected: ['d4'] },
  { name: 'ids stay comparable', filter: 'team = "t4"', untrusted: true, expected: ['d5'] },
  // An auth record's email only where the API shows it.
  { name: 'visible emails', filter: 'reviewers.email ?~ "example"', untrusted: true, expected: ['d1'] },
  {
    name: 'own email',
    filter: 'reviewers.email ?~ "example"',
    untrusted: true,
    as: 'u3',
    expected: ['d1', 'd4'],
  },
  { name: 'every email in rules', filter: 'reviewers.email ?~ "example"', expected: ['d1', 'd2', 'd4'] },
  {
    name: 'emails on the record itself',
    filter: 'email ~ "o"',
    untrusted: true,
    on: users,
    expected: ['u1'],
  },
  {
    name: 'own email on the record',
    filter: 'email ~ "o"',
    untrusted: true,
    as: 'u2',
    on: users,
    expected: ['u1', 'u2'],
  },
  { name: 'names are not guarded', filter: 'name ~ "o"', untrusted: true, on: users, expected: ['u2'] },
]

function contextFor(dialect: Dialect, scenario: Partial<Scenario>): FilterContext & EvaluationContext {
  return {
    dialect,
    collection: scenario.on ?? docs,
    alias: 'r',
    collections: (name) => definitions[name],
    canSeeHidden: !scenario.untrusted,
    now: new Date('2024-06-01T00:00:00.000Z'),
    request: { auth: scenario.as ? auth(scenario.as) : null, body: {}, query: {} },
    lookup: (name, id) => data[name]?.find((row) => row.id === id),
    records: (name) => data[name] ?? [],
  }
}

describe.each(testDialects)('@collection and guarded paths on %s', (kind) => {
  let dialect: Dialect
  let close: (() => Promise<void>) | undefined

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    ;({ dialect, close } = await openTestDatabase(kind))
    await createTables(dialect, Object.values(definitions))
    for (const definition of Object.values(definitions)) {
      await insertRecords(dialect, definition, data[definition.name]!)
    }
  })
  afterAll(async () => close?.())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  async function matching(filter: string, ctx: FilterContext): Promise<string[]> {
    const rows = await dialect.db
      .selectFrom(`${ctx.collection.name} as r`)
      .select('r.id')
      .where(compileFilter(filter, ctx))
      .orderBy('r.id')
      .execute()
    return rows.map((row) => row.id as string)
  }

  test.for(scenarios)('$name: $filter', async (scenario) => {
    const ctx = contextFor(dialect, scenario)
    expect(await matching(scenario.filter, ctx)).toEqual(scenario.expected)
    const inMemory = data[ctx.collection.name]!.filter((row) => evaluateFilter(scenario.filter, row, ctx))
    expect(inMemory.map((row) => row.id)).toEqual(scenario.expected)
  })

  test('shares one subquery for the comparisons of one row, with bound values', () => {
    const ctx = contextFor(dialect, { as: 'u1' })
    const condition = compileFilter(
      '@collection.members.user ?= @request.auth.id && @collection.members.team ?= team',
      ctx,
    )
    const compiled = sql`select 1 from docs as r where ${condition}`.compile(dialect.db)
    expect(compiled.sql.match(/exists/g)).toHaveLength(1)
    expect(compiled.parameters).toEqual(['u1'])
  })

  test('a guarded sort orders by what the caller may see', async () => {
    const ctx = contextFor(dialect, { untrusted: true })
    let query = dialect.db.selectFrom('docs as r').select('r.id')
    for (const item of compileSort('-team.name', ctx)) query = query.orderBy(item.expression, item.direction)
    // Hidden (t4) sorts with the empty ones, last when descending.
    expect((await query.execute()).map((row) => row.id)).toEqual(['d1', 'd3', 'd2', 'd4', 'd5'])
  })

  const refused: { name: string; filter: string; untrusted?: boolean; message: RegExp }[] = [
    {
      name: '@collection in a caller filter',
      filter: '@collection.members.user ?= "u1"',
      untrusted: true,
      message: /only be used in rules and by superusers/,
    },
    {
      name: 'an unknown collection',
      filter: '@collection.nope.id ?= "x"',
      message: /Unknown collection "nope"/,
    },
    {
      name: 'no field',
      filter: '@collection.members ?= "x"',
      message: /Expected a field name after @collection.members/,
    },
    { name: 'no collection', filter: '@collection ?= "x"', message: /Expected a collection name/ },
    { name: 'an unknown field', filter: '@collection.members.nope ?= "x"', message: /Unknown field "nope"/ },
    {
      name: 'a password field',
      filter: '@collection.users.password ?= "h1"',
      message: /Unknown field "password"/,
    },
    {
      name: ':isset',
      filter: '@collection.members.role:isset = true',
      message: /:isset cannot be used on @collection/,
    },
    {
      name: 'two @collection sides',
      filter: '@collection.members.role ?= @collection.members:b.role',
      message: /Only one side/,
    },
    {
      name: 'a caller path into a collection only superusers may view',
      filter: 'log.role = "owner"',
      untrusted: true,
      message: /"log" leads to records only superusers may view/,
    },
    {
      name: 'a password field through a relation',
      filter: 'reviewers.password ?= "h1"',
      untrusted: true,
      message: /Unknown field "password"/,
    },
  ]

  test.for(refused)('refuses $name', ({ filter, untrusted, message }) => {
    const ctx = contextFor(dialect, { untrusted })
    expect(() => compileFilter(filter, ctx)).toThrow(FilterError)
    expect(() => compileFilter(filter, ctx)).toThrow(message)
    expect(() => evaluateFilter(filter, data.docs![0]!, ctx)).toThrow(message)
  })

  test('an error points into the path after the alias', () => {
    const ctx = contextFor(dialect, {})
    const filter = 'title = "x" && @collection.members:m.nope ?= "x"'
    try {
      compileFilter(filter, ctx)
      expect.unreachable()
    } catch (error) {
      expect((error as FilterError).position).toBe(filter.indexOf('nope'))
    }
  })
})

describe('parsing @collection', () => {
  test('reads the alias and the path', () => {
    expect(parseFilter('@collection.members:mine.user.name ?= "x"')).toMatchObject({
      left: {
        kind: 'collection',
        collection: 'members',
        alias: 'mine',
        path: ['user', 'name'],
        pathPosition: 25,
      },
    })
  })

  test('a modifier after the path is still a modifier', () => {
    expect(parseFilter('@collection.members:m.labels:length > 1')).toMatchObject({
      left: { kind: 'collection', alias: 'm', path: ['labels'], modifiers: [{ name: 'length' }] },
    })
  })
})
