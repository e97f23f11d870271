import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import {
  authorsDefinition,
  countRecords,
  createCollection,
  createRecord,
  postsDefinition,
} from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

describe.each(testDialects)('collections API on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())
  const collectionNames = async () =>
    (await t.request({ method: 'GET', url: '/api/collections' })).json().items.map((c: any) => c.name)
  const patch = (name: string, payload: object) =>
    t.request({ method: 'PATCH', url: `/api/collections/${name}`, payload })

  test('create answers 201 with the full definition, system fields included', async () => {
    const response = await t.request({ method: 'POST', url: '/api/collections', payload: postsDefinition })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors['fields.3.collection']).toBeDefined()
    await createCollection(t, authorsDefinition)
    const posts = await createCollection(t, postsDefinition)
    expect(posts.fields.map((f: any) => f.name)).toEqual([
      'id',
      'created',
      'updated',
      ...postsDefinition.fields.map((f) => f.name),
    ])
    expect(posts.fields.every((f: any) => typeof f.id === 'string')).toBe(true)
    expect(posts.indexes).toHaveLength(2)
    expect(await collectionNames()).toEqual(['_superusers', 'authors', 'posts'])
    const view = await t.request({ method: 'GET', url: '/api/collections/posts' })
    expect(view.json()).toEqual(posts)
  })

  test('collections are for superusers only', async () => {
    expect((await t.request({ method: 'GET', url: '/api/collections', auth: null })).statusCode).toBe(401)
    const created = await t.request({
      method: 'POST',
      url: '/api/collections',
      auth: null,
      payload: authorsDefinition,
    })
    expect(created.statusCode).toBe(401)
    expect(await collectionNames()).toEqual(['_superusers'])
  })

  const badDefinitions = [
    { name: 'no name', payload: { fields: [] }, key: 'name' },
    { name: 'name with a space', payload: { name: 'my posts' }, key: 'name' },
    { name: 'SQL in the name', payload: { name: 'x"; drop table _collections; --' }, key: 'name' },
    { name: 'reserved system name', payload: { name: '_secret' }, key: 'name' },
    { name: 'unknown type', payload: { name: 'x', type: 'table' }, key: 'type' },
    { name: 'unknown key', payload: { name: 'x', nope: 1 }, key: 'nope' },
    { name: 'fields not a list', payload: { name: 'x', fields: {} }, key: 'fields' },
    {
      name: 'field type unknown',
      payload: { name: 'x', fields: [{ name: 'a', type: 'blob' }] },
      key: 'fields.0.type',
    },
    {
      name: 'field name invalid',
      payload: { name: 'x', fields: [{ name: '1a', type: 'text' }] },
      key: 'fields.0.name',
    },
    {
      name: 'field named like a system field',
      payload: { name: 'x', fields: [{ name: 'created', type: 'text' }] },
      key: 'fields.0.name',
    },
    {
      name: 'duplicate field names',
      payload: {
        name: 'x',
        fields: [
          { name: 'a', type: 'text' },
          { name: 'A', type: 'bool' },
        ],
      },
      key: 'fields.1.name',
    },
    {
      name: 'option of another type',
      payload: { name: 'x', fields: [{ name: 'a', type: 'bool', max: 3 }] },
      key: 'fields.0.max',
    },
    {
      name: 'min above max',
      payload: { name: 'x', fields: [{ name: 'a', type: 'number', min: 5, max: 1 }] },
      key: 'fields.0.min',
    },
    {
      name: 'bad pattern',
      payload: { name: 'x', fields: [{ name: 'a', type: 'text', pattern: '(' }] },
      key: 'fields.0.pattern',
    },
    {
      name: 'select without values',
      payload: { name: 'x', fields: [{ name: 'a', type: 'select' }] },
      key: 'fields.0.values',
    },
    {
      name: 'relation to nothing',
      payload: { name: 'x', fields: [{ name: 'a', type: 'relation', collection: 'nope' }] },
      key: 'fields.0.collection',
    },
    {
      name: 'bad onDelete',
      payload: { name: 'x', fields: [{ name: 'a', type: 'relation', collection: 'x', onDelete: 'explode' }] },
      key: 'fields.0.onDelete',
    },
    {
      name: 'password field in a base collection',
      payload: { name: 'x', fields: [{ name: 'p', type: 'password' }] },
      key: 'fields.0.type',
    },
    {
      name: 'second password field in an auth collection',
      payload: { name: 'x', type: 'auth', fields: [{ name: 'p', type: 'password' }] },
      key: 'fields.0.type',
    },
    {
      name: 'index on unknown field',
      payload: { name: 'x', indexes: [{ fields: ['nope'] }] },
      key: 'indexes.0.fields',
    },
    { name: 'rule not a string', payload: { name: 'x', listRule: 5 }, key: 'listRule' },
    { name: 'rule that does not parse', payload: { name: 'x', listRule: 'id = ' }, key: 'listRule' },
    { name: 'rule on unknown field', payload: { name: 'x', viewRule: 'nope = 1' }, key: 'viewRule' },
  ]

  test.each(badDefinitions)(
    'rejects $name with 400 naming $key, creating nothing',
    async ({ payload, key }) => {
      const response = await t.request({ method: 'POST', url: '/api/collections', payload })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(Object.keys(response.json().errors)).toContain(key)
      expect(await collectionNames()).toEqual(['_superusers'])
    },
  )

  const badPatches = [
    { name: 'unknown key', payload: { nope: 1 }, key: 'nope' },
    { name: 'type change', payload: { type: 'auth' }, key: 'type' },
    { name: 'invalid new name', payload: { name: 'bad name' }, key: 'name' },
    { name: 'fields not a list', payload: { fields: 'x' }, key: 'fields' },
    {
      name: 'field id with SQL',
      payload: { fields: [{ id: "x'; drop", name: 'a', type: 'text' }] },
      key: 'fields.0.id',
    },
    { name: 'rule too long', payload: { listRule: 'x'.repeat(5000) }, key: 'listRule' },
    { name: 'body not an object', payload: [1], key: 'body' },
  ]

  test.each(badPatches)('PATCH rejects $name with 400 and changes nothing', async ({ payload, key }) => {
    const before = await createCollection(t, authorsDefinition)
    const response = await patch('authors', payload)
    expect(response.statusCode, response.body).toBe(400)
    expect(Object.keys(response.json().errors)).toContain(key)
    expect((await t.request({ method: 'GET', url: '/api/collections/authors' })).json()).toEqual(before)
  })

  test('PATCH and DELETE of an unknown collection are 404', async () => {
    expect((await patch('nope', { listRule: '' })).statusCode).toBe(404)
    expect((await t.request({ method: 'GET', url: '/api/collections/nope' })).statusCode).toBe(404)
  })

  test('a duplicate collection name is refused', async () => {
    await createCollection(t, authorsDefinition)
    const response = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { ...authorsDefinition, name: 'AUTHORS' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.name.code).toBe('duplicate')
  })

  test('fields are added, renamed (data kept) and dropped in one migration', async () => {
    const authors = await createCollection(t, authorsDefinition)
    const ada = await createRecord(t, 'authors', { name: 'Ada', email: 'ada@example.com' })
    const name = authors.fields.find((f: any) => f.name === 'name')
    const email = authors.fields.find((f: any) => f.name === 'email')
    const response = await patch('authors', {
      fields: [{ ...name, name: 'fullName' }, email, { name: 'age', type: 'number' }],
    })
    expect(response.statusCode, response.body).toBe(200)
    const record = (
      await t.request({ method: 'GET', url: `/api/collections/authors/records/${ada.id}` })
    ).json()
    expect(record).toMatchObject({ fullName: 'Ada', email: 'ada@example.com', age: 0 })
    expect(record).not.toHaveProperty('secret')
    expect(record).not.toHaveProperty('name')
    expect(response.json().indexes.map((i: any) => i.fields)).toEqual([['email']])
  })

  test('renaming a collection keeps its records and the relations pointing at it', async () => {
    await createCollection(t, authorsDefinition)
    await createCollection(t, postsDefinition)
    const ada = await createRecord(t, 'authors', { name: 'Ada' })
    await createRecord(t, 'posts', { title: 'P', author: ada.id })
    const response = await patch('authors', { name: 'writers' })
    expect(response.statusCode, response.body).toBe(200)
    const posts = (await t.request({ method: 'GET', url: '/api/collections/posts' })).json()
    expect(posts.fields.find((f: any) => f.name === 'author').collection).toBe('writers')
    const list = (
      await t.request({ method: 'GET', url: '/api/collections/posts/records?expand=author' })
    ).json()
    expect(list.items[0].expand.author.name).toBe('Ada')
    await t.request({ method: 'DELETE', url: `/api/collections/writers/records/${ada.id}` })
    expect(await countRecords(t, 'posts')).toBe(0)
  })

  test('dropping a relation field and changing onDelete work on stored data', async () => {
    await createCollection(t, authorsDefinition)
    const posts = await createCollection(t, postsDefinition)
    const ada = await createRecord(t, 'authors', { name: 'Ada' })
    await createRecord(t, 'posts', { title: 'P', author: ada.id })
    const author = posts.fields.find((f: any) => f.name === 'author')
    const userFields = posts.fields.filter((f: any) => !f.system)
    const restricted = await patch('posts', {
      fields: userFields.map((f: any) => (f.id === author.id ? { ...f, onDelete: 'restrict' } : f)),
    })
    expect(restricted.statusCode, restricted.body).toBe(200)
    expect(
      (await t.request({ method: 'DELETE', url: `/api/collections/authors/records/${ada.id}` })).statusCode,
    ).toBe(400)
    const dropped = await patch('posts', { fields: userFields.filter((f: any) => f.id !== author.id) })
    expect(dropped.statusCode, dropped.body).toBe(200)
    expect(await countRecords(t, 'posts')).toBe(1)
    expect(
      (await t.request({ method: 'DELETE', url: `/api/collections/authors/records/${ada.id}` })).statusCode,
    ).toBe(204)
  })

  test('a change that fails midway leaves schema and data as they were', async () => {
    const authors = await createCollection(t, authorsDefinition)
    await createRecord(t, 'authors', { name: 'Same' })
    await createRecord(t, 'authors', { name: 'Same' })
    const userFields = authors.fields.filter((f: any) => !f.system)
    const response = await patch('authors', {
      fields: [...userFields, { name: 'nickname', type: 'text' }],
      indexes: [{ fields: ['name'], unique: true }],
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors.indexes.code).toBe('duplicate_values')
    const after = (await t.request({ method: 'GET', url: '/api/collections/authors' })).json()
    expect(after).toEqual(authors)
    const list = (await t.request({ method: 'GET', url: '/api/collections/authors/records' })).json()
    expect(list.items).toHaveLength(2)
    expect(list.items[0]).not.toHaveProperty('nickname')
    const migrations = await t.app.plinth.collections.migrations()
    expect(migrations.map((m) => m.name)).toEqual(['create authors'])
  })

  test('field types cannot change in place', async () => {
    const authors = await createCollection(t, authorsDefinition)
    const fields = authors.fields
      .filter((f: any) => !f.system)
      .map((f: any) => (f.name === 'name' ? { ...f, type: 'number' } : f))
    const response = await patch('authors', { fields })
    expect(response.statusCode).toBe(400)
    expect(response.json().errors['fields.0.type'].code).toBe('read_only')
  })

  test('delete drops the collection unless another one points at it', async () => {
    await createCollection(t, authorsDefinition)
    await createCollection(t, postsDefinition)
    const refused = await t.request({ method: 'DELETE', url: '/api/collections/authors' })
    expect(refused.statusCode).toBe(400)
    expect((await t.request({ method: 'DELETE', url: '/api/collections/posts' })).statusCode).toBe(204)
    expect((await t.request({ method: 'DELETE', url: '/api/collections/authors' })).statusCode).toBe(204)
    expect(await collectionNames()).toEqual(['_superusers'])
    expect((await t.request({ method: 'GET', url: '/api/collections/posts/records' })).statusCode).toBe(404)
    expect((await t.request({ method: 'DELETE', url: '/api/collections/_superusers' })).statusCode).toBe(400)
    expect((await t.request({ method: 'DELETE', url: '/api/collections/nope' })).statusCode).toBe(404)
  })

  test('every change is a migration that can be reverted and re-applied', async () => {
    await createCollection(t, authorsDefinition)
    await patch('authors', { listRule: '' })
    const service = t.app.plinth.collections
    expect((await service.migrations()).map((m) => m.name)).toEqual(['create authors', 'update authors'])
    await service.migrateDown()
    expect(service.get('authors').listRule).toBeNull()
    await service.migrateDown()
    expect(await collectionNames()).toEqual(['_superusers'])
    await service.migrateUp()
    await service.migrateUp()
    expect(service.get('authors').listRule).toBe('')
    expect(await service.migrateUp()).toBeNull()
  })

  test('auth collections carry the auth fields and sign-up validation', async () => {
    const users = await createCollection(t, {
      name: 'users',
      type: 'auth',
      fields: [{ name: 'nick', type: 'text' }],
    })
    expect(users.fields.map((f: any) => f.name)).toEqual([
      'id',
      'created',
      'updated',
      'email',
      'emailVisibility',
      'verified',
      'password',
      'tokenKey',
      'nick',
    ])
    const url = '/api/collections/users/records'
    const mismatch = await t.request({
      method: 'POST',
      url,
      payload: { email: 'a@example.com', password: 'longenough1', passwordConfirm: 'other' },
    })
    expect(mismatch.json().errors.passwordConfirm.code).toBe('mismatch')
    const created = await t.request({
      method: 'POST',
      url,
      payload: { email: ' A@Example.COM ', password: 'longenough1', passwordConfirm: 'longenough1' },
    })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json()).toMatchObject({ email: 'a@example.com', verified: false })
    expect(created.json()).not.toHaveProperty('password')
    expect(created.json()).not.toHaveProperty('tokenKey')
    const duplicate = await t.request({
      method: 'POST',
      url,
      payload: { email: 'a@EXAMPLE.com', password: 'longenough1', passwordConfirm: 'longenough1' },
    })
    expect(duplicate.json().errors.email.code).toBe('not_unique')
    const emailChange = await t.request({
      method: 'PATCH',
      url: `${url}/${created.json().id}`,
      payload: { email: 'b@example.com' },
    })
    expect(emailChange.json().errors.email.code).toBe('read_only')
  })
})
