import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { describePlan } from './plan-messages.js'
import { parseSchemaFile } from './schema-file.js'
import { planSchemaImport } from './schema-plan.js'

const fields = [
  { name: 'title', type: 'text' },
  { name: 'body', type: 'editor' },
  { name: 'views', type: 'number' },
  { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
  { name: 'secret', type: 'text', hidden: true },
  { name: 'rank', type: 'text' },
]

const badSearches: Array<{ name: string; search: unknown; at: string }> = [
  { name: 'a string', search: 'title', at: 'search' },
  { name: 'a list', search: ['title'], at: 'search' },
  { name: 'no fields', search: { fields: [] }, at: 'search.fields' },
  { name: 'fields as text', search: { fields: 'title' }, at: 'search.fields' },
  { name: 'an unknown field', search: { fields: ['nope'] }, at: 'search.fields.0' },
  { name: '__proto__ as a field', search: { fields: ['__proto__'] }, at: 'search.fields.0' },
  { name: 'constructor as a field', search: { fields: ['title', 'constructor'] }, at: 'search.fields.1' },
  { name: 'a number field', search: { fields: ['views'] }, at: 'search.fields.0' },
  { name: 'a multiple select', search: { fields: ['tags'] }, at: 'search.fields.0' },
  { name: 'a hidden field', search: { fields: ['secret'] }, at: 'search.fields.0' },
  { name: 'a system field', search: { fields: ['id'] }, at: 'search.fields.0' },
  { name: 'a field named rank', search: { fields: ['rank'] }, at: 'search.fields.0' },
  { name: 'a field twice', search: { fields: ['title', 'title'] }, at: 'search.fields.1' },
  { name: 'eleven fields', search: { fields: Array(11).fill('title') }, at: 'search.fields' },
  { name: 'an unknown language', search: { fields: ['title'], language: 'klingon' }, at: 'search.language' },
  {
    name: 'SQL as the language',
    search: { fields: ['title'], language: "english'::regconfig); drop table x; --" },
    at: 'search.language',
  },
  { name: 'fuzzy as text', search: { fields: ['title'], fuzzy: 'yes' }, at: 'search.fuzzy' },
  { name: 'an unknown key', search: { fields: ['title'], weights: [1] }, at: 'search.weights' },
  {
    // The body parser refuses the key before the definition is read.
    name: 'a __proto__ key',
    search: JSON.parse('{"fields":["title"],"__proto__":{}}'),
    at: 'body',
  },
]

describe.each(testDialects)('collection search options on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())

  const patch = (name: string, payload: object) =>
    t.request({ method: 'PATCH', url: `/api/collections/${name}`, payload })
  const search = (collection: string, terms: string) =>
    t.request({
      method: 'GET',
      url: `/api/collections/${collection}/records?search=${encodeURIComponent(terms)}`,
    })
  const found = async (collection: string, terms: string) => {
    const response = await search(collection, terms)
    expect(response.statusCode, response.body).toBe(200)
    return response.json().items.map((item: { title: string }) => item.title)
  }

  test.for(badSearches)(
    'refuses $name as search, naming $at, and creates nothing',
    async ({ search, at }) => {
      const response = await t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { name: 'docs', fields, search },
      })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors[at]?.code, response.body).toBeTypeOf('string')
      const listed = await t.request({ method: 'GET', url: '/api/collections/docs' })
      expect(listed.statusCode).toBe(404)
    },
  )

  test('keeps the options complete in the definition, and refuses them on views', async () => {
    const created = await createCollection(t, { name: 'docs', fields, search: { fields: ['title', 'body'] } })
    expect(created.search).toEqual({ fields: ['title', 'body'], language: 'simple', fuzzy: false })
    const view = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'titles',
        type: 'view',
        viewQuery: 'select id, title from docs',
        search: { fields: ['title'] },
      },
    })
    expect(view.statusCode).toBe(400)
    expect(view.json().errors.search.code).toBe('invalid_value')
  })

  test('adding search to a populated collection indexes its records; removing it drops the index', async () => {
    await createCollection(t, { name: 'docs', fields })
    for (const title of ['alpha report', 'beta report', 'gamma notes'])
      await createRecord(t, 'docs', { title, body: '<p>quarterly</p>' })
    expect((await search('docs', 'report')).statusCode).toBe(400)
    const added = await patch('docs', { search: { fields: ['title', 'body'], language: 'english' } })
    expect(added.statusCode, added.body).toBe(200)
    expect((await found('docs', 'report')).sort()).toEqual(['alpha report', 'beta report'])
    expect(await found('docs', 'quarterly')).toHaveLength(3)

    const removed = await patch('docs', { search: null })
    expect(removed.statusCode, removed.body).toBe(200)
    expect(removed.json().search).toBeUndefined()
    expect((await search('docs', 'report')).json().errors.search.code).toBe('invalid_query')
    await createRecord(t, 'docs', { title: 'delta report' })
    const again = await patch('docs', { search: { fields: ['title'] } })
    expect(again.statusCode, again.body).toBe(200)
    expect(await found('docs', 'report')).toHaveLength(3)
  })

  test('a renamed search field stays searched; a dropped one is refused until search lets it go', async () => {
    const created = await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'body', type: 'text' },
      ],
      search: { fields: ['title', 'body'] },
    })
    await createRecord(t, 'docs', { title: 'first', body: 'needle in a haystack' })
    const own = created.fields.filter((f: { system?: boolean }) => !f.system)
    const renamed = await patch('docs', { fields: [own[0], { ...own[1], name: 'content' }] })
    expect(renamed.statusCode, renamed.body).toBe(200)
    expect(renamed.json().search.fields).toEqual(['title', 'content'])
    expect(await found('docs', 'needle')).toEqual(['first'])
    await createRecord(t, 'docs', { title: 'second', content: 'another needle' })
    expect((await found('docs', 'needle')).sort()).toEqual(['first', 'second'])

    const dropped = await patch('docs', { fields: [own[0]] })
    expect(dropped.statusCode).toBe(400)
    expect(dropped.json().errors['search.fields.1'].code).toBe('in_use')
    expect(await found('docs', 'needle')).toHaveLength(2)
    const both = await patch('docs', { fields: [own[0]], search: { fields: ['title'] } })
    expect(both.statusCode, both.body).toBe(200)
    expect(await found('docs', 'second')).toEqual(['second'])
    expect(await found('docs', 'needle')).toEqual([])

    const hidden = await patch('docs', { fields: [{ ...own[0], hidden: true }] })
    expect(hidden.statusCode).toBe(400)
    expect(hidden.json().errors['search.fields.0'].code).toBe('invalid_value')
  })

  test('search follows the collection through a rename and a rebuilt table', async () => {
    await createCollection(t, { name: 'authors', fields: [{ name: 'name', type: 'text' }] })
    const created = await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1 },
      ],
      search: { fields: ['title'] },
    })
    for (const title of ['one apple', 'two apples', 'three pears']) await createRecord(t, 'docs', { title })
    expect((await patch('docs', { name: 'papers' })).statusCode).toBe(200)
    expect(await found('papers', 'apple')).toEqual(['one apple'])
    // Dropping a relation column rebuilds the table on SQLite: the index must follow its rows.
    const title = created.fields.find((f: { name: string }) => f.name === 'title')
    expect((await patch('papers', { fields: [title] })).statusCode).toBe(200)
    expect(await found('papers', 'pears')).toEqual(['three pears'])
    await createRecord(t, 'papers', { title: 'four pears' })
    expect((await found('papers', 'pears')).sort()).toEqual(['four pears', 'three pears'])
  })

  test('records deleted by a cascade leave the index', async () => {
    await createCollection(t, { name: 'authors', fields: [{ name: 'name', type: 'text' }] })
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'author', type: 'relation', collection: 'authors', maxSelect: 1, onDelete: 'cascade' },
      ],
      search: { fields: ['title'] },
    })
    const author = await createRecord(t, 'authors', { name: 'Ada' })
    await createRecord(t, 'docs', { title: 'cascading doc', author: author.id })
    await createRecord(t, 'docs', { title: 'standing doc' })
    const deleted = await t.request({
      method: 'DELETE',
      url: `/api/collections/authors/records/${author.id}`,
    })
    expect(deleted.statusCode).toBe(204)
    expect(await found('docs', 'doc')).toEqual(['standing doc'])
    await createRecord(t, 'docs', { title: 'another doc' })
    expect((await found('docs', 'doc')).sort()).toEqual(['another doc', 'standing doc'])
  })

  test('migrations down and up take the index away and bring it back', async () => {
    await createCollection(t, { name: 'docs', fields: [{ name: 'title', type: 'text' }] })
    await createRecord(t, 'docs', { title: 'kept words' })
    expect((await patch('docs', { search: { fields: ['title'], fuzzy: true } })).statusCode).toBe(200)
    const service = t.app.plinth.collections
    await service.migrateDown()
    expect((await search('docs', 'words')).statusCode).toBe(400)
    await service.migrateUp()
    expect(await found('docs', 'words')).toEqual(['kept words'])
    expect(await found('docs', 'wordz')).toEqual(['kept words'])
    expect(await found('docs', 'kept')).toEqual(['kept words'])
  })

  test('the plan of an import tells when it builds or drops an index', async () => {
    await createCollection(t, { name: 'docs', fields: [{ name: 'title', type: 'text' }] })
    const current = t.app.plinth.collections.list()
    const exported = JSON.parse(
      (await t.request({ method: 'GET', url: '/api/collections/docs' })).body,
    ) as Record<string, unknown>
    const file = (search: unknown) =>
      parseSchemaFile(JSON.stringify({ plinth: 1, collections: [{ ...exported, search }] }))
    const adding = describePlan(planSchemaImport(current, file({ fields: ['title'], language: 'english' })))
    expect(adding).toContain('+ search (title; english): builds the search index')
    await patch('docs', { search: { fields: ['title'] } })
    const dropping = describePlan(planSchemaImport(t.app.plinth.collections.list(), file(undefined)))
    expect(dropping).toContain('- search (title; simple): drops the search index')
    const view = {
      name: 'titles',
      type: 'view',
      viewQuery: 'select id, title from docs',
      search: { fields: ['title'] },
    }
    const withView = parseSchemaFile(JSON.stringify({ plinth: 1, collections: [exported, view] }))
    const refusal = (() => {
      try {
        planSchemaImport(t.app.plinth.collections.list(), withView)
      } catch (error) {
        return error as { fields?: Record<string, { code: string }> }
      }
    })()
    expect(refusal?.fields?.search?.code).toBe('invalid_value')
  })
})
