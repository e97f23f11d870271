import { describe, expect, test } from 'vitest'
import { PlinthError, ValidationError } from '../http/errors.js'
import { describePlan, exportSchema, parseSchemaFile, planSchemaImport, type SchemaFile } from './index.js'
import { systemFieldsFor } from './system-fields.js'
import type { CollectionDefinition, FieldDefinition } from './types.js'

const T0 = '2024-01-01T00:00:00.000Z'

function collection(
  name: string,
  fields: FieldDefinition[],
  extra: Partial<CollectionDefinition> = {},
): CollectionDefinition {
  const type = extra.type ?? 'base'
  // Auth collections always carry the unique email index, as CollectionService keeps it.
  const indexes = [
    ...(type === 'auth' ? [{ id: 'sys_email_unique', fields: ['email'], unique: true }] : []),
    ...(extra.indexes ?? []),
  ]
  return {
    id: `c_${name.toLowerCase()}`,
    name,
    type,
    system: false,
    fields: [...systemFieldsFor(type), ...fields],
    listRule: null,
    viewRule: null,
    createRule: null,
    updateRule: null,
    deleteRule: null,
    options: {},
    created: T0,
    updated: T0,
    ...extra,
    indexes,
  }
}

const title: FieldDefinition = { id: 'f_title', name: 'title', type: 'text', required: true, max: 200 }
const views: FieldDefinition = { id: 'f_views', name: 'views', type: 'number', max: 10 }
const relation = (id: string, name: string, target: string): FieldDefinition => ({
  id,
  name,
  type: 'relation',
  collection: target,
  onDelete: 'set-null',
})
const superusers = collection('_superusers', [], { id: 'sys_superusers', type: 'auth', system: true })

/** The file that `exportSchema` writes for these definitions. */
const fileOf = (...definitions: CollectionDefinition[]): SchemaFile =>
  parseSchemaFile(exportSchema(definitions))

function errorOf(run: () => unknown): PlinthError {
  try {
    run()
  } catch (error) {
    if (error instanceof PlinthError) return error
    throw error
  }
  throw new Error('expected an error')
}

describe('parseSchemaFile', () => {
  const valid = { plinth: 1, collections: [{ name: 'posts', fields: [{ name: 'title', type: 'text' }] }] }
  const bad = [
    { name: 'not JSON', text: '{"plinth": 1,', message: /not valid JSON/ },
    { name: 'not an object', text: '[]', message: /must hold a JSON object/ },
    { name: 'wrong version', text: JSON.stringify({ ...valid, plinth: 2 }), at: 'plinth' },
    { name: 'missing version', text: JSON.stringify({ collections: [] }), at: 'plinth' },
    {
      name: 'collections not a list',
      text: JSON.stringify({ plinth: 1, collections: {} }),
      at: 'collections',
    },
    {
      name: 'duplicate names',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'posts' }, { name: 'Posts' }] }),
      at: 'collections.1.name',
    },
    {
      name: 'duplicate ids',
      text: JSON.stringify({
        plinth: 1,
        collections: [
          { id: 'c1', name: 'a' },
          { id: 'c1', name: 'b' },
        ],
      }),
      at: 'collections.1.id',
    },
    {
      name: 'a system collection',
      text: JSON.stringify({ plinth: 1, collections: [{ name: '_superusers', type: 'auth' }] }),
      at: 'collections.0',
    },
    {
      name: 'an invalid name',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'drop table' }] }),
      at: 'collections.0.name',
    },
    {
      name: 'an unknown key',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', colour: 'red' }] }),
      at: 'collections.0.colour',
    },
    {
      name: 'a view collection',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', type: 'view' }] }),
      at: 'collections.0.type',
    },
    {
      name: 'fields not a list',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', fields: {} }] }),
      at: 'collections.0.fields',
    },
    {
      name: 'a field without a type',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', fields: [{ name: 'x' }] }] }),
      at: 'collections.0.fields.0',
    },
    {
      name: 'a field id that is not a string',
      text: JSON.stringify({
        plinth: 1,
        collections: [{ name: 'a', fields: [{ id: 7, name: 'x', type: 'text' }] }],
      }),
      at: 'collections.0.fields.0',
    },
    {
      name: 'an index over something other than field names',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', indexes: [{ fields: [1] }] }] }),
      at: 'collections.0.indexes.0',
    },
    {
      name: 'a rule that is not a string',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', listRule: 1 }] }),
      at: 'collections.0.listRule',
    },
  ]
  test.each(bad)('rejects $name', ({ text, at, message }) => {
    const error = errorOf(() => parseSchemaFile(text))
    expect(error.status).toBe(400)
    if (message) expect(error.message).toMatch(message)
    if (at) expect(error.fields?.[at]?.message, JSON.stringify(error.fields)).toBeTypeOf('string')
  })

  test('fills in defaults and ignores what an API response adds', () => {
    const fromApi = collection('posts', [title], { type: 'auth', indexes: [{ id: 'i1', fields: ['title'] }] })
    const file = parseSchemaFile(
      JSON.stringify({
        plinth: 1,
        collections: [
          {
            ...fromApi,
            indexes: [{ id: 'sys_email_unique', fields: ['email'], unique: true }, ...fromApi.indexes],
          },
          { name: 'bare' },
        ],
      }),
    )
    expect(file.collections[0]).toMatchObject({ name: 'posts', type: 'auth', fields: [title] })
    expect(file.collections[0]!.indexes).toEqual([{ id: 'i1', fields: ['title'] }])
    expect(file.collections[1]).toEqual({
      name: 'bare',
      type: 'base',
      fields: [],
      indexes: [],
      listRule: null,
      viewRule: null,
      createRule: null,
      updateRule: null,
      deleteRule: null,
      options: {},
    })
  })
})

describe('exportSchema', () => {
  test('writes user collections oldest first, without volatile or built-in parts', () => {
    const posts = collection(
      'posts',
      [{ max: 200, type: 'text', required: true, name: 'title', id: 'f_title' }],
      {
        created: '2024-02-01T00:00:00.000Z',
        listRule: '',
        indexes: [{ id: 'i_title', fields: ['title'], unique: true }],
      },
    )
    const users = collection('users', [], {
      type: 'auth',
      options: { otp: { length: 8, enabled: true }, mfa: { required: true } },
    })
    const text = exportSchema([posts, superusers, users])
    expect(text.endsWith('}\n')).toBe(true)
    const parsed = JSON.parse(text)
    expect(parsed.plinth).toBe(1)
    expect(parsed.collections.map((c: { name: string }) => c.name)).toEqual(['users', 'posts'])
    expect(Object.keys(parsed.collections[1])).toEqual([
      'id',
      'name',
      'type',
      'fields',
      'indexes',
      'listRule',
      'viewRule',
      'createRule',
      'updateRule',
      'deleteRule',
      'options',
    ])
    expect(parsed.collections[1].fields).toEqual([title])
    expect(Object.keys(parsed.collections[1].fields[0])).toEqual(['id', 'name', 'type', 'max', 'required'])
    expect(JSON.stringify(parsed.collections[0].options)).toBe(
      '{"mfa":{"required":true},"otp":{"enabled":true,"length":8}}',
    )
    expect(parsed.collections[0].fields).toEqual([])
    expect(parsed.collections[0].indexes).toEqual([])
  })

  test('reads back as no differences', () => {
    const authors = collection('authors', [{ id: 'f_name', name: 'name', type: 'text' }], { type: 'auth' })
    const posts = collection('posts', [title, views, relation('f_author', 'author', 'authors')], {
      indexes: [{ id: 'i_title', fields: ['title', 'author'] }],
      viewRule: 'author = @request.auth.id',
    })
    const world = [superusers, authors, posts]
    const plan = planSchemaImport(world, fileOf(...world), { deleteMissing: true })
    expect(plan.steps).toEqual([])
    expect(describePlan(plan)).toBe('No differences.')
  })
})

describe('planSchemaImport', () => {
  test('creates new collections with relations between them, cycles included', () => {
    const a = collection('a', [title, relation('f_b', 'b', 'b')])
    const b = collection('b', [relation('f_a', 'a', 'a'), relation('f_self', 'parent', 'b')], {
      indexes: [{ id: 'i_a', fields: ['a'] }],
      listRule: 'a.title = "x"',
    })
    const plan = planSchemaImport([superusers], fileOf(a, b))
    expect(plan.steps.map((s) => `${s.action} ${s.collection}`)).toEqual([
      'create a',
      'create b',
      'update b',
      'update a',
    ])
    expect(plan.steps[0]).toMatchObject({ input: { fields: [title] } })
    expect(plan.steps[1]).toMatchObject({ input: { fields: [] } })
    expect(plan.steps[1]).not.toHaveProperty('input.listRule')
    expect(describePlan(plan)).toBe(
      [
        '+ collection a',
        '  + field title (text)',
        '  + field b (relation → b)',
        '+ collection b',
        '  + field a (relation → a)',
        '  + field parent (relation → b)',
        '  + index (a)',
        '  ~ listRule: null → "a.title = \\"x\\""',
      ].join('\n'),
    )
  })

  test('a collection without relations is created in one step', () => {
    const plan = planSchemaImport([], fileOf(collection('posts', [title], { listRule: '' })))
    expect(plan.steps).toEqual([
      expect.objectContaining({ action: 'create', collection: 'posts', done: 'Created collection posts.' }),
    ])
  })

  test('changes, renames, adds and drops fields, indexes and rules', () => {
    const before = collection('posts', [title, views, { id: 'f_old', name: 'old', type: 'bool' }], {
      indexes: [{ id: 'i_views', fields: ['views'] }],
    })
    const after = collection(
      'posts',
      [
        { ...title, name: 'headline' },
        { ...views, max: 20 },
        { id: 'f_new', name: 'body', type: 'editor' },
      ],
      { indexes: [{ id: 'i_head', fields: ['headline'], unique: true }], deleteRule: '' },
    )
    const plan = planSchemaImport([before], fileOf(after))
    expect(plan.steps).toHaveLength(1)
    expect(plan.steps[0]).toMatchObject({ action: 'update', collection: 'posts' })
    expect(describePlan(plan)).toBe(
      [
        '~ collection posts',
        '  ~ field title → headline (renamed)',
        '  ~ field views: max 10 → 20',
        '  + field body (editor)',
        '  - field old',
        '  + unique index (headline)',
        '  - index (views)',
        '  ~ deleteRule: null → ""',
      ].join('\n'),
    )
  })

  test('renames a collection matched by id before the others point at its new name', () => {
    const posts = collection('posts', [title])
    const comments = collection('comments', [relation('f_post', 'post', 'posts')])
    const file = fileOf(
      { ...posts, name: 'articles' },
      collection('comments', [relation('f_post', 'post', 'articles')]),
    )
    const plan = planSchemaImport([posts, comments], file)
    expect(plan.steps).toEqual([
      {
        action: 'update',
        collection: 'posts',
        input: { name: 'articles' },
        done: 'Renamed collection posts to articles.',
      },
    ])
    expect(describePlan(plan)).toBe(
      [
        '~ collection posts → articles (renamed)',
        '~ collection comments',
        '  ~ field post: collection "posts" → "articles"',
      ].join('\n'),
    )
  })

  test('recognises a renamed collection by its field ids when the collection ids differ', () => {
    const posts = collection('posts', [title], { id: 'c_here' })
    const file = fileOf(collection('articles', [title], { id: 'c_elsewhere' }))
    const plan = planSchemaImport([posts], file, { deleteMissing: true })
    expect(plan.steps.map((s) => s.done)).toEqual(['Renamed collection posts to articles.'])
  })

  test('keeps the data of a field created separately under the same name', () => {
    const posts = collection('posts', [{ ...title, id: 'f_local' }])
    const plan = planSchemaImport([posts], fileOf(collection('posts', [title])))
    expect(plan.steps).toEqual([])
  })

  test('deletes missing collections only when asked, users before their targets', () => {
    const kept = collection('kept', [])
    const target = collection('target', [])
    const user = collection('user', [relation('f_t', 't', 'target')])
    const world = [superusers, target, user, kept]
    const keep = planSchemaImport(world, fileOf(kept))
    expect(keep.steps).toEqual([])
    expect(describePlan(keep)).toBe(
      [
        '? collection target (not in the file; deleted only with --delete-missing)',
        '? collection user (not in the file; deleted only with --delete-missing)',
      ].join('\n'),
    )
    const drop = planSchemaImport(world, fileOf(kept), { deleteMissing: true })
    expect(drop.steps.map((s) => `${s.action} ${s.collection}`)).toEqual(['delete user', 'delete target'])
    expect(describePlan(drop)).toBe('- collection target\n- collection user')
  })

  test('breaks a relation cycle among deleted collections first', () => {
    const a = collection('a', [relation('f_b', 'b', 'b')])
    const b = collection('b', [relation('f_a', 'a', 'a'), title])
    const plan = planSchemaImport([a, b], fileOf(), { deleteMissing: true })
    expect(plan.steps.map((s) => `${s.action} ${s.collection}`)).toEqual(['update b', 'delete a', 'delete b'])
    expect(plan.steps[0]).toMatchObject({ input: { fields: [title] } })
  })

  const refused = [
    {
      name: 'an unknown field type, naming the field',
      current: [] as CollectionDefinition[],
      file: {
        plinth: 1,
        collections: [{ name: 'posts', fields: [{ id: 'f_x', name: 'x', type: 'colour' }] }],
      },
      message: /Cannot create collection posts/,
      field: 'fields.x.type',
    },
    {
      name: 'a relation to a collection that does not exist',
      current: [],
      file: {
        plinth: 1,
        collections: [
          { name: 'posts', fields: [{ id: 'f_x', name: 'x', type: 'relation', collection: 'nope' }] },
        ],
      },
      message: /Cannot update collection posts/,
      field: 'fields.x.collection',
    },
    {
      name: 'a change of field type',
      current: [collection('posts', [title])],
      file: { plinth: 1, collections: [{ name: 'posts', fields: [{ ...title, type: 'number' }] }] },
      message: /Cannot update collection posts/,
      field: 'fields.title.type',
    },
    {
      name: 'a change of collection type',
      current: [collection('posts', [])],
      file: { plinth: 1, collections: [{ name: 'posts', type: 'auth' }] },
      message: /type of a collection cannot change/,
    },
    {
      name: 'deleting a collection the file still points at',
      current: [collection('authors', []), collection('posts', [relation('f_a', 'author', 'authors')])],
      file: { plinth: 1, collections: [{ name: 'posts', fields: [relation('f_a', 'author', 'authors')] }] },
      message: /Cannot delete collection authors: it is the target of relations in posts/,
    },
  ]
  test.each(refused)('refuses $name before any step', ({ current, file, message, field }) => {
    const error = errorOf(() =>
      planSchemaImport(current, parseSchemaFile(JSON.stringify(file)), { deleteMissing: true }),
    )
    expect(error.message).toMatch(message)
    if (field) expect(error.fields?.[field], JSON.stringify(error.fields)).toBeDefined()
  })

  test('refuses a rename onto the name of a collection that stays', () => {
    const posts = collection('posts', [title])
    const articles = collection('articles', [])
    const file = fileOf({ ...posts, name: 'articles' })
    expect(errorOf(() => planSchemaImport([posts, articles], file)).message).toBe(
      'Collection posts cannot be renamed to articles while another collection has that name; rename in two imports.',
    )
  })

  test('renames in the order that frees each name first', () => {
    const a = collection('a', [])
    const b = collection('b', [])
    const plan = planSchemaImport([a, b], fileOf({ ...a, name: 'b' }, { ...b, name: 'c' }))
    expect(plan.steps.map((s) => s.done)).toEqual([
      'Renamed collection b to c.',
      'Renamed collection a to b.',
    ])
  })

  test('checks rules with the given checker', () => {
    const file = fileOf(collection('posts', [title], { listRule: 'nope = 1' }))
    const error = errorOf(() =>
      planSchemaImport([], file, {
        checkRules: (definition) => {
          if (definition.listRule === 'nope = 1')
            throw new ValidationError({ listRule: { code: 'invalid_rule', message: 'unknown field nope' } })
        },
      }),
    )
    expect(error.message).toMatch(/Cannot create collection posts/)
    expect(error.fields?.listRule?.message).toBe('unknown field nope')
  })
  test.each([
    ['a new collection', [] as CollectionDefinition[], /Cannot create collection users/],
    [
      'a collection in the database',
      [collection('users', [], { type: 'auth' })],
      /Cannot update collection users/,
    ],
  ])('checks the options of %s as the API does', (_name, world, message) => {
    const users = collection('users', [], { type: 'auth', options: { otp: { enabled: true, length: 12 } } })
    const error = errorOf(() => planSchemaImport(world, fileOf(users)))
    expect(error.message).toMatch(message)
    expect(error.fields?.['options.otp.length']?.code).toBe('out_of_range')
  })
})
