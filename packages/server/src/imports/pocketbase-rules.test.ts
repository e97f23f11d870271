import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import {
  type CollectionDefinition,
  type CollectionType,
  emptyDefinition,
  type FieldDefinition,
  systemFieldsFor,
} from '../collections/index.js'
import type { Dialect } from '../db/index.js'
import { checkRules } from '../rules/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { openTestDatabase } from '../test-support/dialect-fixture.js'
import type { ImportNote } from './import-report.js'
import { translateCollectionRules } from './pocketbase-collection-rules.js'
import type { PocketBaseCollection } from './pocketbase-data.js'

const USERS_ID = '_pb_users_auth_'

function collection(
  name: string,
  type: CollectionType,
  fields: Omit<FieldDefinition, 'id'>[],
): CollectionDefinition {
  return {
    ...emptyDefinition(type),
    id: `c_${name}`,
    name,
    fields: [
      ...systemFieldsFor(type),
      ...fields.map((field, index) => ({ id: `f_${name}_${index}`, ...field })),
    ],
  }
}

const users = collection('users', 'auth', [{ name: 'name', type: 'text' }])
const posts = collection('posts', 'base', [
  { name: 'title', type: 'text' },
  { name: 'views', type: 'number' },
  { name: 'published', type: 'bool' },
  { name: 'status', type: 'select', values: ['draft', 'live'] },
  { name: 'tags', type: 'select', values: ['news', 'tech'], maxSelect: 2 },
  { name: 'author', type: 'relation', collection: 'users', onDelete: 'set-null' },
  { name: 'publishedAt', type: 'date' },
])
const comments = collection('comments', 'base', [
  { name: 'post', type: 'relation', collection: 'posts', onDelete: 'cascade' },
  { name: 'author', type: 'relation', collection: 'users', onDelete: 'set-null' },
])
const members = collection('members', 'base', [
  { name: 'user', type: 'relation', collection: 'users', onDelete: 'cascade' },
])
const world = [users, posts, comments, members]

/** PocketBase's rule → Plinth's, or the reason the rule is closed (a RegExp). */
const cases: Array<[string, string | RegExp]> = [
  // bad input first: what cannot be translated, and what Plinth refuses once translated
  ['title ~ "50%"', /"50%" is a LIKE pattern in PocketBase; Plinth's ~ always means "contains"/],
  ['created > @yesterday', /Plinth has no @yesterday/],
  ['@request.headers.x_token = "secret"', /Plinth rules cannot read @request\.headers/],
  ['@request.method = "GET"', /Plinth rules cannot read @request\.method/],
  ['geoDistance(views, views, 1, 1) < 10', /Plinth has no function geoDistance\(\) in rules/],
  ['title:upper = "X"', /Plinth has no modifier :upper/],
  ['(title = "a"', /a parenthesis is not closed/],
  ['title = ', /a comparison is incomplete/],
  ['title = "a" title = "b"', /expected && or \|\| between comparisons/],
  [
    '@request.auth.collectionId = "pbc_unknown"',
    /@request\.auth\.collectionId is only translated when compared with a collection id/,
  ],
  ['nope = 1', /as "nope = 1": .*nope/],
  ['@request.auth.nickname = "x"', /@request\.auth\.nickname names no field of any auth collection/],
  // translated
  ['', ''],
  ['@request.auth.id != ""', '@request.auth.id != null'],
  ["@request.auth.id = ''", '@request.auth.id = null'],
  ['title = ""', '(title = "" || title = null)'],
  ['title != null', '(title != "" && title != null)'],
  ['"" = author', '(author = "" || author = null)'],
  ['publishedAt = ""', 'publishedAt = null'],
  [
    "views > 10 && (published = true || status = 'live')",
    'views > 10 && (published = true || status = "live")',
  ],
  ['tags ?= "news" && tags:length > 1', 'tags ?= "news" && tags:length > 1'],
  ['@request.data.title:isset = false', '@request.body.title:isset = false'],
  ['@collection.members:mine.user ?= @request.auth.id', '@collection.members:mine.user ?= @request.auth.id'],
  ['comments_via_post.author ?= @request.auth.id', 'comments_via_post.author ?= @request.auth.id'],
  ['created < @now && created >= @todayStart', 'created < @now && created >= @todayStart'],
  ['// the owner only\nauthor = @request.auth.id', 'author = @request.auth.id'],
  [`@request.auth.collectionId = "${USERS_ID}"`, '@request.auth.collectionName = "users"'],
  ['title = "say \\"hi\\"" || title ~ \'it\\\'s\'', 'title = "say \\"hi\\"" || title ~ "it\'s"'],
  [
    'title = "a\tb" || views = -1.5 || published = TRUE',
    'title = "a\\tb" || views = -1.5 || published = true',
  ],
]

describe.each(testDialects)('PocketBase rules in Plinth on %s', (kind) => {
  let database: Awaited<ReturnType<typeof openTestDatabase>> | undefined
  let dialect: Dialect
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    database = await openTestDatabase(kind)
    dialect = database.dialect
  })
  afterAll(() => database?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  test.each(cases)('%j', (rule, expected) => {
    const notes: ImportNote[] = []
    const source = {
      id: 'pbc_posts',
      name: 'posts',
      listRule: rule,
      viewRule: null,
      createRule: null,
      updateRule: null,
      deleteRule: null,
    } as PocketBaseCollection
    const rules = translateCollectionRules(
      source,
      posts,
      world,
      checkRules(dialect),
      new Map([[USERS_ID, 'users']]),
      notes,
    )
    if (typeof expected === 'string') {
      expect(notes).toEqual([])
      expect(rules.listRule).toBe(expected)
    } else {
      expect(rules.listRule).toBeNull()
      expect(notes).toHaveLength(1)
      expect(notes[0]!.subject).toBe('posts.listRule')
      expect(notes[0]!.problem).toMatch(expected)
      expect(notes[0]!.problem).toMatch(/; imported as null \(superusers only\)$/)
    }
    expect(rules.viewRule).toBeNull()
  })
})
