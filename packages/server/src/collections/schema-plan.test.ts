import { describe, expect, test } from 'vitest'
import { ValidationError } from '../errors/index.js'
import {
  collection,
  errorOf,
  fileOf,
  relation,
  superusers,
  title,
  views,
} from '../test-support/schema-definitions.js'
import { describePlan, parseSchemaFile, planSchemaImport } from './index.js'
import type { CollectionDefinition } from './types.js'

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
          if (definition?.listRule === 'nope = 1')
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
