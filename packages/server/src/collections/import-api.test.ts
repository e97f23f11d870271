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

const badImports = [
  { name: 'a body that is a list', payload: [] },
  { name: 'collections that are not a list', payload: { collections: {} } },
  { name: 'no collections', payload: { deleteMissing: true } },
  { name: 'deleteMissing as text', payload: { collections: [], deleteMissing: 'yes' } },
  { name: 'an unknown key', payload: { collections: [], nope: 1 } },
  { name: 'a __proto__ key', payload: JSON.parse('{"collections":[],"__proto__":{"deleteMissing":true}}') },
  { name: 'an entry that is not an object', payload: { collections: ['posts'] } },
  { name: 'an entry named __proto__', payload: { collections: [{ name: '__proto__', fields: [] }] } },
  {
    name: 'an entry named constructor with bad fields',
    payload: { collections: [{ name: 'constructor', fields: 'x' }] },
  },
  { name: 'an entry with SQL in its name', payload: { collections: [{ name: 'x"; drop table posts; --' }] } },
  {
    name: 'a rule naming an unknown field',
    payload: { collections: [{ name: 'notes', listRule: 'nope = 1' }] },
  },
  { name: 'a name listed twice', payload: { collections: [{ name: 'notes' }, { name: 'Notes' }] } },
  {
    name: 'a relation to a missing collection',
    payload: {
      collections: [{ name: 'notes', fields: [{ name: 'a', type: 'relation', collection: 'nope' }] }],
    },
  },
]

describe.each(testDialects)('PUT /api/collections/import on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())

  const list = async () => (await t.request({ method: 'GET', url: '/api/collections' })).json().items
  const names = async () => (await list()).map((c: any) => c.name)
  const migrationCount = async () => (await t.app.plinth.collections.migrations()).length
  const putImport = (payload: unknown, query = '') =>
    t.request({ method: 'PUT', url: `/api/collections/import${query}`, payload: payload as object })

  test('the list read back is imported as no change: a round trip', async () => {
    await createCollection(t, authorsDefinition)
    await createCollection(t, postsDefinition)
    const migrations = await migrationCount()
    const answer = await putImport({ collections: await list() })
    expect(answer.statusCode, answer.body).toBe(200)
    expect(answer.json()).toMatchObject({ dryRun: false, changes: [], statements: [] })
    expect(await migrationCount()).toBe(migrations)
  })

  test('applies every change as one migration, which one step down undoes', async () => {
    await createCollection(t, authorsDefinition)
    await createCollection(t, { name: 'drafts', fields: [{ name: 'text', type: 'text' }] })
    await createRecord(t, 'authors', { name: 'Ada' })
    const exported = (await list()).filter((c: any) => c.name === 'authors')
    const wanted = {
      collections: [
        ...exported,
        { name: 'tags', fields: [{ name: 'label', type: 'text', required: true }] },
        {
          ...postsDefinition,
          fields: [...postsDefinition.fields, { name: 'tag', type: 'relation', collection: 'tags' }],
          listRule: 'tag.label != ""',
        },
      ],
      deleteMissing: true,
    }
    const migrations = await migrationCount()

    const dry = await putImport(wanted, '?dryRun=1')
    expect(dry.statusCode, dry.body).toBe(200)
    expect(dry.json().dryRun).toBe(true)
    expect(
      dry
        .json()
        .changes.map((c: any) => `${c.kind} ${c.name}`)
        .sort(),
    ).toEqual(['create posts', 'create tags', 'delete drafts'])
    expect(dry.json().statements.length).toBeGreaterThan(3)
    expect(await names()).toEqual(['_superusers', 'authors', 'drafts'])
    expect(await migrationCount()).toBe(migrations)

    const applied = await putImport(wanted)
    expect(applied.statusCode, applied.body).toBe(200)
    expect(applied.json().changes).toEqual(dry.json().changes)
    expect((await names()).sort()).toEqual(['_superusers', 'authors', 'posts', 'tags'])
    expect(await countRecords(t, 'authors')).toBe(1)
    expect(await migrationCount()).toBe(migrations + 1)

    await t.app.plinth.collections.migrateDown()
    expect((await names()).sort()).toEqual(['_superusers', 'authors', 'drafts'])
  })

  test('all or nothing: a change the records refuse leaves every other change undone', async () => {
    await createCollection(t, authorsDefinition)
    await createRecord(t, 'authors', { name: 'Ada' })
    await createRecord(t, 'authors', { name: 'Ada' })
    const [authors] = (await list()).filter((c: any) => c.name === 'authors')
    const before = await list()
    const migrations = await migrationCount()
    const answer = await putImport({
      collections: [
        { name: 'tags', fields: [{ name: 'label', type: 'text' }] },
        { ...authors, indexes: [...authors.indexes, { fields: ['name'], unique: true }] },
      ],
    })
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    expect(answer.json().detail).toContain('authors')
    expect(await list()).toEqual(before)
    expect(await migrationCount()).toBe(migrations)
  })

  test.for(badImports)('$name is a 400, and nothing changes', async ({ payload }) => {
    await createCollection(t, authorsDefinition)
    const before = await list()
    for (const query of ['', '?dryRun=1']) {
      const answer = await putImport(payload, query)
      expect(answer.statusCode, answer.body).toBe(400)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect(await list()).toEqual(before)
  })

  test('malformed JSON, a bad flag and a huge body are 4xx problems', async () => {
    const malformed = await t.request({
      method: 'PUT',
      url: '/api/collections/import',
      body: '{"collections": [',
      headers: { 'content-type': 'application/json' },
    })
    expect(malformed.statusCode).toBe(400)
    expect((await putImport({ collections: [] }, '?dryRun=__proto__')).statusCode).toBe(400)
    const huge = await putImport({ collections: [{ name: 'x', viewQuery: 'y'.repeat(2 * 1024 * 1024) }] })
    expect(huge.statusCode).toBe(413)
    expect(huge.headers['content-type']).toContain('application/problem+json')
    expect(await names()).toEqual(['_superusers'])
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    for (const payload of [{ collections: [], deleteMissing: true }, { nope: 1 }]) {
      for (const query of ['', '?dryRun=1']) {
        const url = `/api/collections/import${query}`
        expect((await t.request({ method: 'PUT', url, payload, auth: null })).statusCode).toBe(401)
        expect((await t.request({ method: 'PUT', url, payload, auth: user })).statusCode).toBe(403)
      }
    }
    expect(await names()).toEqual(['_superusers', 'users'])
  })
})
