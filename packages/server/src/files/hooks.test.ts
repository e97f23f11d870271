import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { sendForm, storedKeys, textPart } from '../test-support/files.js'

const DOCS = '/api/collections/docs/records'

describe.each(testDialects)('before-hooks and files on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'attachments', type: 'file', maxSelect: 5 },
      ],
    })
  })
  afterEach(async () => t?.close())

  test('a hook may drop an uploaded file: the record keeps the rest and the dropped one is removed', async () => {
    t.app.plinth.records.hooks.replace({
      docs: {
        beforeCreate({ record }: { record: Record<string, unknown> }) {
          record.attachments = (record.attachments as string[]).filter((name) => !name.startsWith('drop_'))
        },
      },
    })
    const created = await sendForm(t, 'POST', DOCS, [
      ['attachments', textPart('keep.txt')],
      ['attachments', textPart('drop.txt')],
    ])
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().attachments).toEqual([expect.stringMatching(/^keep_/)])
    await t.app.plinth.jobs.drain()
    expect(await storedKeys(t)).toEqual([expect.stringContaining('/keep_')])
  })

  test('a hook cannot give a record a file name of its own making or of another record', async () => {
    const other = (await sendForm(t, 'POST', DOCS, [['attachments', textPart('other.txt')]])).json()
    t.app.plinth.records.hooks.replace({
      docs: {
        beforeUpdate({ record }: { record: Record<string, unknown> }) {
          record.attachments = [...(record.attachments as string[]), other.attachments[0]]
        },
      },
    })
    const doc = (await sendForm(t, 'POST', DOCS, [['title', 'mine']])).json()
    const refused = await sendForm(t, 'PATCH', `${DOCS}/${doc.id}`, [['attachments+', textPart('new.txt')]])
    expect(refused.statusCode).toBe(400)
    expect(refused.json().errors.attachments.code).toBe('unknown_file')
    await t.app.plinth.jobs.drain()
    expect(await storedKeys(t)).toEqual([expect.stringContaining('/other_')])
    expect((await t.request({ method: 'GET', url: `${DOCS}/${doc.id}` })).json().attachments).toEqual([])
  })

  test('file fields take part in filters like other list fields', async () => {
    await sendForm(t, 'POST', DOCS, [
      ['title', 'with'],
      ['attachments', textPart('a.txt')],
    ])
    await sendForm(t, 'POST', DOCS, [['title', 'without']])
    const found = await t.request({
      method: 'GET',
      url: `${DOCS}?filter=${encodeURIComponent('attachments:length > 0')}&fields=title`,
    })
    expect(found.statusCode, found.body).toBe(200)
    expect(found.json().items).toEqual([{ title: 'with' }])
    const empty = await t.request({
      method: 'GET',
      url: `${DOCS}?filter=${encodeURIComponent('attachments:length = 0')}&fields=title`,
    })
    expect(empty.json().items).toEqual([{ title: 'without' }])
  })
})
