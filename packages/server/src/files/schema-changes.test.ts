import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { sendForm, storedKeys, textPart } from '../test-support/files.js'

describe.each(testDialects)('schema changes and files on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'drafts', type: 'file', maxSelect: 5 },
        { name: 'final', type: 'file' },
      ],
    })
  })
  afterEach(async () => t?.close())

  test('removing a file field removes its files and keeps the others; renaming one keeps them', async () => {
    const doc = await sendForm(t, 'POST', '/api/collections/docs/records', [
      ['drafts', textPart('one.txt')],
      ['drafts', textPart('two.txt')],
      ['final', textPart('final.txt')],
    ])
    expect(doc.statusCode, doc.body).toBe(201)
    const { id, final } = doc.json()
    const definition = (await t.request({ method: 'GET', url: '/api/collections/docs' })).json()
    const fields = definition.fields
      .filter((field: { name: string }) => field.name !== 'drafts')
      .map((field: { name: string }) => (field.name === 'final' ? { ...field, name: 'published' } : field))
    const changed = await t.request({ method: 'PATCH', url: '/api/collections/docs', payload: { fields } })
    expect(changed.statusCode, changed.body).toBe(200)
    await t.app.plinth.jobs.drain()
    expect(await storedKeys(t)).toEqual([`${definition.id}/${final}`])
    const served = await t.request({ method: 'GET', url: `/api/files/docs/${id}/${final}` })
    expect(served.statusCode).toBe(200)
    expect(served.body).toBe('contents of final.txt')
  })
})
