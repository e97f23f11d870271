import { storageKind } from '../collections/fields/index.js'
import type { CollectionDefinition, CollectionType, FieldDefinition } from '../collections/types.js'
import { isMultiRelation, junctionTableName } from '../collections/types.js'
import type { Dialect } from '../db/index.js'
import type { EvaluationContext, FilterContext } from '../query/filter-context.js'

type Row = Record<string, unknown>

export function field(
  collection: string,
  name: string,
  type: FieldDefinition['type'],
  extra: Partial<FieldDefinition> = {},
): FieldDefinition {
  return { id: `${collection}_${name}`, name, type, ...extra }
}

export function collection(
  name: string,
  fields: FieldDefinition[],
  type: CollectionType = 'base',
): CollectionDefinition {
  return {
    id: `col_${name}`,
    name,
    type,
    system: false,
    fields: [
      field(name, 'id', 'text', { system: true, required: true }),
      ...fields,
      field(name, 'created', 'autodate', { system: true, onCreate: true }),
      field(name, 'updated', 'autodate', { system: true, onCreate: true, onUpdate: true }),
    ],
    indexes: [],
    listRule: null,
    // Open, so that an ordinary caller's paths reach related records (see relation-access.ts).
    viewRule: '',
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    created: '2024-01-01T00:00:00.000Z',
    updated: '2024-01-01T00:00:00.000Z',
  }
}

/** Creates a table per collection (and the junction tables of multi relations), without foreign keys. */
export async function createTables(dialect: Dialect, definitions: CollectionDefinition[]): Promise<void> {
  for (const definition of definitions) {
    let table = dialect.db.schema.createTable(definition.name)
    for (const f of definition.fields) {
      if (isMultiRelation(f)) {
        await dialect.db.schema
          .createTable(junctionTableName(f))
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('target', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull())
          .execute()
      } else {
        table = table.addColumn(f.name, dialect.columnType(storageKind(f)), (c) =>
          f.name === 'id' ? c.primaryKey() : c,
        )
      }
    }
    await table.execute()
  }
}

/** Inserts records as the API shows them: multi relations as id arrays, stored in their junction tables. */
export async function insertRecords(
  dialect: Dialect,
  definition: CollectionDefinition,
  records: Row[],
): Promise<void> {
  for (const record of records) {
    const row: Row = {}
    for (const f of definition.fields) {
      const value = record[f.name] ?? null
      if (!isMultiRelation(f)) {
        row[f.name] = dialect.encode(storageKind(f), value)
        continue
      }
      const targets = (value as string[] | null) ?? []
      for (const [position, target] of targets.entries()) {
        await dialect.db
          .insertInto(junctionTableName(f))
          .values({ source: record.id, target, position })
          .execute()
      }
    }
    await dialect.db.insertInto(definition.name).values(row).execute()
  }
}

const companies = collection('companies', [field('companies', 'name', 'text')])

const authors = collection('authors', [
  field('authors', 'name', 'text'),
  field('authors', 'age', 'number'),
  field('authors', 'active', 'bool'),
  field('authors', 'company', 'relation', { collection: 'companies', maxSelect: 1 }),
  field('authors', 'mentor', 'relation', { collection: 'authors', maxSelect: 1 }),
  field('authors', 'nickname', 'text', { hidden: true }),
])

const posts = collection('posts', [
  field('posts', 'title', 'text'),
  field('posts', 'views', 'number'),
  field('posts', 'published', 'bool'),
  field('posts', 'published_at', 'date'),
  field('posts', 'status', 'select', { values: ['draft', 'live', 'archived'], maxSelect: 1 }),
  field('posts', 'tags', 'select', { values: ['news', 'tech', 'misc', '50%_off'], maxSelect: 3 }),
  field('posts', 'meta', 'json'),
  field('posts', 'author', 'relation', { collection: 'authors', maxSelect: 1 }),
  field('posts', 'editors', 'relation', { collection: 'authors', maxSelect: 5 }),
  field('posts', 'secret', 'text', { hidden: true }),
  field('posts', 'pin', 'password'),
  field('posts', 'link', 'url'),
])

const users = collection(
  'users',
  [
    field('users', 'email', 'email'),
    field('users', 'role', 'select', { values: ['admin', 'member'], maxSelect: 1 }),
    field('users', 'company', 'relation', { collection: 'companies', maxSelect: 1 }),
    field('users', 'password', 'password', { hidden: true }),
    field('users', 'tokenKey', 'text', { hidden: true }),
  ],
  'auth',
)

const definitions = { companies, authors, posts, users }

const stamp = (day: number) => `2024-01-${String(day).padStart(2, '0')}T00:00:00.000Z`

export const data: Record<keyof typeof definitions, Row[]> = {
  companies: [
    { id: 'c1', name: 'Acme', created: stamp(1), updated: stamp(1) },
    { id: 'c2', name: 'Globex', created: stamp(1), updated: stamp(1) },
    { id: 'c3', name: null, created: stamp(1), updated: stamp(1) },
  ],
  authors: [
    { id: 'a1', name: 'Alice', age: 30, active: true, company: 'c1', mentor: null, nickname: 'al' },
    { id: 'a2', name: 'Bob', age: 45, active: false, company: 'c2', mentor: 'a1', nickname: null },
    { id: 'a3', name: 'Chloé', age: null, active: true, company: null, mentor: 'a2', nickname: 'clo' },
    { id: 'a4', name: null, age: 22, active: null, company: 'c1', mentor: 'a3', nickname: null },
  ].map((a) => ({ ...a, created: stamp(2), updated: stamp(2) })),
  posts: [
    {
      id: 'p1',
      title: 'Hello World',
      views: 10,
      published: true,
      published_at: '2024-01-15T10:00:00.000Z',
      status: 'draft',
      tags: ['news', 'tech'],
      meta: { a: 1 },
      author: 'a1',
      editors: ['a2', 'a3'],
      secret: 's1',
      pin: 'hash',
      link: 'https://example.com/a_b',
      created: '2024-02-01T00:00:00.000Z',
      updated: '2024-02-01T00:00:00.000Z',
    },
    {
      id: 'p2',
      title: '100% pure',
      views: 250,
      published: false,
      published_at: null,
      status: 'live',
      tags: ['tech'],
      meta: null,
      author: 'a2',
      editors: ['a1'],
      secret: null,
      created: '2024-02-02T00:00:00.000Z',
      updated: '2024-02-02T00:00:00.000Z',
    },
    {
      id: 'p3',
      title: 'snake_case',
      views: 0,
      published: true,
      published_at: '2023-06-01T00:00:00.000Z',
      status: null,
      tags: [],
      meta: {},
      author: null,
      editors: [],
      secret: 's3',
      created: '2024-02-03T00:00:00.000Z',
      updated: '2024-02-03T00:00:00.000Z',
    },
    {
      id: 'p4',
      title: 'Ünïcödé ✓ ok',
      views: -5.5,
      published: null,
      published_at: '2030-01-01T00:00:00.000Z',
      status: 'draft',
      tags: ['news'],
      meta: null,
      author: 'a3',
      editors: ['a1', 'a2', 'a4'],
      created: '2024-02-04T00:00:00.000Z',
      updated: '2024-02-04T00:00:00.000Z',
    },
    {
      id: 'p5',
      title: null,
      views: null,
      published: false,
      published_at: '2024-06-01T10:00:00.000Z',
      status: 'archived',
      tags: null,
      meta: null,
      author: 'a4',
      editors: ['a4'],
      created: '2024-02-05T00:00:00.000Z',
      updated: '2024-02-05T00:00:00.000Z',
    },
    {
      id: 'p6',
      title: 'back\\slash',
      views: 1000000,
      published: true,
      published_at: '2025-01-01T00:00:00.000Z',
      status: 'live',
      tags: ['news', 'tech', 'misc'],
      meta: [1, 2],
      author: 'a1',
      editors: [],
      created: '2024-02-06T00:00:00.000Z',
      updated: '2024-02-06T00:00:00.000Z',
    },
    {
      id: 'p7',
      title: '',
      views: 10,
      published: true,
      published_at: null,
      status: 'draft',
      tags: ['misc', '50%_off'],
      meta: null,
      author: 'a2',
      editors: ['a3'],
      created: '2024-02-07T00:00:00.000Z',
      updated: '2024-02-07T00:00:00.000Z',
    },
    {
      id: 'p8',
      title: 'HELLO again',
      views: 3.25,
      published: false,
      published_at: '2024-06-01T12:00:00.000Z',
      status: 'live',
      tags: ['tech', 'news'],
      meta: null,
      author: 'a1',
      editors: ['a1', 'a3'],
      created: '2024-02-08T00:00:00.000Z',
      updated: '2024-02-08T00:00:00.000Z',
    },
  ],
  users: [
    {
      id: 'u1',
      email: 'ada@example.com',
      role: 'admin',
      company: 'c1',
      password: 'hash',
      tokenKey: 'k',
      created: stamp(3),
      updated: stamp(3),
    },
  ],
}

/** Fixed "now" of the fixture: 2024-06-01T12:00:00.000Z. */
const NOW = new Date('2024-06-01T12:00:00.000Z')

export async function createFixture(dialect: Dialect): Promise<void> {
  const all = Object.values(definitions)
  await createTables(dialect, all)
  for (const definition of all) {
    await insertRecords(dialect, definition, data[definition.name as keyof typeof definitions])
  }
}

function lookup(collectionName: string, id: string): Row | undefined {
  return data[collectionName as keyof typeof definitions]?.find((r) => r.id === id)
}

export function postsContext(
  dialect: Dialect,
  overrides: Partial<FilterContext> = {},
): FilterContext & EvaluationContext {
  return {
    dialect,
    collection: posts,
    alias: 'r',
    collections: (name) => definitions[name as keyof typeof definitions],
    canSeeHidden: false,
    now: NOW,
    request: { auth: null, body: {}, query: {} },
    lookup,
    ...overrides,
  }
}

export const signedIn = { collection: users, record: data.users[0]! }
