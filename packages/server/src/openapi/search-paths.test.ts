import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import {
  type Doc,
  documentOf,
  expectValidDocument,
  schemaValidator,
} from '../test-support/openapi-document.js'

const notes = {
  name: 'notes',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'body', type: 'text' },
  ],
  listRule: '',
  search: { fields: ['title', 'body'], language: 'english', fuzzy: false },
}

describe.each(testDialects)('OpenAPI of search on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, notes)
    await createCollection(t, { name: 'plain', fields: [{ name: 'title', type: 'text' }], listRule: '' })
  })
  afterEach(async () => t?.close())

  const parameterNames = (doc: Doc, collection: string) =>
    doc.paths[`/api/collections/${collection}/records`].get.parameters.map(
      (p: Doc) => doc.components.parameters[p.$ref.split('/').pop()].name,
    )

  test('lists search and highlight where a collection has search, and describes what they return', async () => {
    const doc = await documentOf(t)
    await expectValidDocument(doc)
    expect(parameterNames(doc, 'notes')).toEqual(expect.arrayContaining(['search', 'highlight']))
    expect(parameterNames(doc, 'plain')).not.toContain('search')

    const check = schemaValidator(doc)
    await createRecord(t, 'notes', { title: 'Search <em>me</em>', body: 'a searchable body' })
    const list = await t.request({
      method: 'GET',
      url: '/api/collections/notes/records?search=search&highlight=1',
    })
    expect(list.json().items[0].highlight.title).toBe('<mark>Search</mark> &lt;em&gt;me&lt;/em&gt;')
    expect(check('NotesList', list.json())).toEqual({ isValid: true, errors: 'No errors' })

    const definition = await t.request({ method: 'GET', url: '/api/collections/notes' })
    expect(check('CollectionDefinition', definition.json())).toEqual({ isValid: true, errors: 'No errors' })
    expect(check('CollectionDefinitionUpdate', { search: null }).isValid).toBe(true)
    expect(
      check('CollectionDefinitionUpdate', { search: { fields: ['title'], language: 'elvish' } }).isValid,
    ).toBe(false)
  })
})
