import { describe, expect, test } from 'vitest'
import {
  collection,
  errorOf,
  fileOf,
  relation,
  superusers,
  title,
  views,
} from '../test-support/schema-definitions.js'
import { describePlan, exportSchema, parseSchemaFile, planSchemaImport } from './index.js'

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
      name: 'an unknown type',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', type: 'table' }] }),
      at: 'collections.0.type',
    },
    {
      name: 'a query on a base collection',
      text: JSON.stringify({ plinth: 1, collections: [{ name: 'a', viewQuery: 'SELECT 1 AS id' }] }),
      at: 'collections.0.viewQuery',
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
