import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import {
  authorsDefinition,
  countRecords,
  createCollection,
  createRecord,
  postsDefinition,
} from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const badPatches: Array<{ name: string; payload: Record<string, unknown>; key: string }> = [
  { name: 'a rule with bad syntax', payload: { listRule: 'title ~' }, key: 'listRule' },
  { name: 'a rule naming an unknown field', payload: { viewRule: 'nope = 1' }, key: 'viewRule' },
  {
    name: 'a rule with SQL in it',
    payload: { listRule: "title = '' or 1=1; drop table posts" },
    key: 'listRule',
  },
  { name: 'a rule of the wrong type', payload: { listRule: 42 }, key: 'listRule' },
  {
    name: 'a field of an unknown type',
    payload: { fields: [{ name: 'x', type: 'blob' }] },
    key: 'fields.0.type',
  },
  {
    name: 'a field named __proto__',
    payload: { fields: [{ name: '__proto__', type: 'text' }] },
    key: 'fields.0.name',
  },
  { name: 'an unknown key', payload: { nope: true }, key: 'nope' },
  { name: 'a constructor key', payload: { constructor: 'x' }, key: 'constructor' },
]

describe.each(testDialects)('collection dry runs on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())

  const definitionOf = async (name: string) =>
    (await t.request({ method: 'GET', url: `/api/collections/${name}` })).json()
  const migrationCount = async () => (await t.app.plinth.collections.migrations()).length

  test('a create dry run answers the migration and the definition it would save, and creates nothing', async () => {
    const answer = await t.request({
      method: 'POST',
      url: '/api/collections?dryRun=1',
      payload: authorsDefinition,
    })
    expect(answer.statusCode, answer.body).toBe(200)
    const body = answer.json()
    expect(body.dryRun).toBe(true)
    expect(body.changes).toMatchObject([{ kind: 'create', name: 'authors' }])
    expect(body.changes[0].details).toEqual(
      expect.arrayContaining([
        '+ field name (text)',
        '+ field email (email)',
        '+ field secret (text)',
        '+ unique index (email)',
      ]),
    )
    expect(body.collections[0]).toMatchObject({ name: 'authors', type: 'base' })
    expect(body.statements.some((s: any) => /create table/i.test(s.sql) && s.sql.includes('authors'))).toBe(
      true,
    )
    expect(body.statements.every((s: any) => typeof s.sql === 'string' && Array.isArray(s.parameters))).toBe(
      true,
    )
    expect((await t.request({ method: 'GET', url: '/api/collections/authors' })).statusCode).toBe(404)
    expect(await migrationCount()).toBe(0)
    // The same request without the flag does it.
    await createCollection(t, authorsDefinition)
  })

  test('an update dry run shows the change and keeps the records and definition as they were', async () => {
    await createCollection(t, authorsDefinition)
    await createCollection(t, postsDefinition)
    const ada = await createRecord(t, 'authors', { name: 'Ada' })
    await createRecord(t, 'posts', { title: 'Hello', author: ada.id })
    const before = await definitionOf('posts')
    const migrations = await migrationCount()
    const fields = before.fields
      .filter((f: any) => !f.system && f.name !== 'meta')
      .map((f: any) => (f.name === 'title' ? { ...f, name: 'headline' } : f))
    const answer = await t.request({
      method: 'PATCH',
      url: '/api/collections/posts?dryRun=true',
      payload: { fields: [...fields, { name: 'summary', type: 'text' }], listRule: 'headline != ""' },
    })
    expect(answer.statusCode, answer.body).toBe(200)
    const [change] = answer.json().changes
    expect(change.kind).toBe('update')
    expect(change.details).toEqual(
      expect.arrayContaining([
        '~ field title → headline (renamed)',
        '+ field summary (text)',
        '- field meta',
        '~ listRule: null → "headline != \\"\\""',
      ]),
    )
    expect(answer.json().statements.length).toBeGreaterThan(1)
    expect(await definitionOf('posts')).toEqual(before)
    expect(await migrationCount()).toBe(migrations)
    const records = await t.request({ method: 'GET', url: '/api/collections/posts/records' })
    expect(records.json().items[0]).toMatchObject({ title: 'Hello', meta: null })
  })

  test('a rule alone is checked against the schema: a good one answers 200 with no DDL', async () => {
    await createCollection(t, authorsDefinition)
    const answer = await t.request({
      method: 'PATCH',
      url: '/api/collections/authors?dryRun=1',
      payload: { listRule: 'name ~ "a" && @request.auth.id != ""' },
    })
    expect(answer.statusCode, answer.body).toBe(200)
    expect(answer.json().statements.every((s: any) => !/alter|create|drop/i.test(s.sql))).toBe(true)
    expect((await definitionOf('authors')).listRule).toBeNull()
  })

  test('a change the stored records cannot take is refused by the dry run too', async () => {
    await createCollection(t, authorsDefinition)
    await createRecord(t, 'authors', { name: 'Ada' })
    await createRecord(t, 'authors', { name: 'Ada' })
    const answer = await t.request({
      method: 'PATCH',
      url: '/api/collections/authors?dryRun=1',
      payload: { indexes: [{ fields: ['name'], unique: true }] },
    })
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.json().errors.indexes.code).toBe('duplicate_values')
    expect(await countRecords(t, 'authors')).toBe(2)
  })

  test.for(badPatches)('$name is a 400 naming $key, and nothing changes', async ({ payload, key }) => {
    await createCollection(t, authorsDefinition)
    await createCollection(t, postsDefinition)
    const before = await definitionOf('posts')
    const answer = await t.request({ method: 'PATCH', url: '/api/collections/posts?dryRun=1', payload })
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    expect(answer.json().errors?.[key], answer.body).toBeDefined()
    expect(await definitionOf('posts')).toEqual(before)
  })

  test('bad flags, bodies and names are 4xx problems', async () => {
    await createCollection(t, authorsDefinition)
    for (const [method, url, payload, status] of [
      ['POST', '/api/collections?dryRun=yes', authorsDefinition, 400],
      ['PATCH', '/api/collections/authors?dryRun=2', {}, 400],
      ['POST', '/api/collections?dryRun=1', 'not json', 400],
      ['POST', '/api/collections?dryRun=1', [], 400],
      ['POST', '/api/collections?dryRun=1', { name: '__proto__' }, 400],
      ['POST', '/api/collections?dryRun=1', { name: 'constructor', fields: 'x' }, 400],
      ['PATCH', '/api/collections/__proto__?dryRun=1', {}, 404],
      ['PATCH', '/api/collections/prototype?dryRun=1', {}, 404],
      ['POST', '/api/collections?dryRun=1', { name: 'big', fields: 'x'.repeat(2 * 1024 * 1024) }, 413],
    ] as const) {
      const answer = await t.request({
        method,
        url,
        ...(typeof payload === 'string'
          ? { body: payload, headers: { 'content-type': 'application/json' } }
          : { payload }),
      })
      expect(answer.statusCode, `${method} ${url}: ${answer.body}`).toBe(status)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect(await migrationCount()).toBe(1)
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    for (const [method, url] of [
      ['POST', '/api/collections?dryRun=1'],
      ['POST', '/api/collections?dryRun=nope'],
      ['PATCH', '/api/collections/users?dryRun=1'],
    ] as const) {
      const payload = { listRule: '' }
      expect((await t.request({ method, url, payload, auth: null })).statusCode, `${method} ${url}`).toBe(401)
      expect((await t.request({ method, url, payload, auth: user })).statusCode, `${method} ${url}`).toBe(403)
    }
  })
})
