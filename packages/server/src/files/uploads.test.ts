import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip } from '../test-support/databases.js'
import {
  createStorageTestApp,
  image,
  sendForm,
  storageCases,
  storedKeys,
  textPart,
} from '../test-support/files.js'

const DOCS = '/api/collections/docs/records'

describe.each(storageCases)('file uploads on %s with %s storage', (kind, storage) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createStorageTestApp(kind, storage)
    await createCollection(t, {
      name: 'docs',
      fields: [
        { name: 'title', type: 'text', max: 50 },
        { name: 'pages', type: 'number' },
        { name: 'draft', type: 'bool' },
        { name: 'cover', type: 'file', mimeTypes: ['image/*'], maxSize: 100_000 },
        { name: 'attachments', type: 'file', maxSelect: 3 },
      ],
    })
  })
  afterEach(async () => t?.close())

  /** Keys of the original files only: thumbnails live under thumbs/. */
  const originals = async () => (await storedKeys(t)).filter((key) => !key.includes('/thumbs/'))
  const settled = async () => {
    await t.app.plinth.jobs.drain()
    return originals()
  }

  test('a record is created with its files in one multipart request, and they are served', async () => {
    const png = await image('png')
    const created = await sendForm(t, 'POST', DOCS, [
      ['title', 'Report'],
      ['pages', '12'],
      ['draft', 'true'],
      ['cover', { name: 'Cover Photo.png', bytes: png, type: 'image/png' }],
      ['attachments', textPart('notes.txt')],
    ])
    expect(created.statusCode, created.body).toBe(201)
    const record = created.json()
    expect(record).toMatchObject({ title: 'Report', pages: 12, draft: true })
    expect(record.cover).toMatch(/^cover_photo_[a-z0-9]{16}\.png$/)
    expect(record.attachments).toEqual([expect.stringMatching(/^notes_[a-z0-9]{16}\.txt$/)])
    const served = await t.request({
      method: 'GET',
      url: `/api/files/docs/${record.id}/${record.cover}`,
      auth: null,
    })
    expect(served.statusCode).toBe(200)
    expect(served.headers['content-type']).toBe('image/png')
    expect(served.rawPayload.equals(png)).toBe(true)
    expect(served.headers['content-disposition']).toContain('Cover Photo.png')
    expect(await originals()).toHaveLength(2)
  })

  test('an @jsonPayload part carries the JSON values beside the files', async () => {
    const created = await sendForm(t, 'POST', DOCS, [
      ['@jsonPayload', JSON.stringify({ title: 'From JSON', pages: 3, draft: false })],
      ['attachments', textPart('a.txt')],
    ])
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json()).toMatchObject({ title: 'From JSON', pages: 3, draft: false })
  })

  test('an update replaces a single file, appends with field+ and removes with field-', async () => {
    const first = (
      await sendForm(t, 'POST', DOCS, [
        ['cover', { name: 'one.png', bytes: await image('png'), type: 'image/png' }],
        ['attachments', textPart('a.txt')],
        ['attachments', textPart('b.txt')],
      ])
    ).json()
    const [a, b] = first.attachments
    const replaced = await sendForm(t, 'PATCH', `${DOCS}/${first.id}`, [
      ['cover', { name: 'two.jpg', bytes: await image('jpeg'), type: 'image/jpeg' }],
      ['attachments+', textPart('c.txt')],
      ['attachments-', a],
    ])
    expect(replaced.statusCode, replaced.body).toBe(200)
    const record = replaced.json()
    expect(record.cover).toMatch(/^two_[a-z0-9]{16}\.jpg$/)
    expect(record.attachments).toEqual([b, expect.stringMatching(/^c_[a-z0-9]{16}\.txt$/)])
    const keys = await settled()
    expect(keys).toHaveLength(3)
    expect(keys.some((key) => key.endsWith(first.cover))).toBe(false)
    expect(keys.some((key) => key.endsWith(a))).toBe(false)
    const gone = await t.request({ method: 'GET', url: `/api/files/docs/${first.id}/${first.cover}` })
    expect(gone.statusCode).toBe(404)
  })

  test('a JSON update keeps a subset of the files by name, or clears the field with null', async () => {
    const doc = (
      await sendForm(t, 'POST', DOCS, [
        ['cover', { name: 'c.png', bytes: await image('png'), type: 'image/png' }],
        ['attachments', textPart('a.txt')],
        ['attachments', textPart('b.txt')],
      ])
    ).json()
    const kept = await t.request({
      method: 'PATCH',
      url: `${DOCS}/${doc.id}`,
      payload: { attachments: [doc.attachments[1]], cover: null },
    })
    expect(kept.statusCode, kept.body).toBe(200)
    expect(kept.json()).toMatchObject({ attachments: [doc.attachments[1]], cover: '' })
    expect(await settled()).toHaveLength(1)
  })

  test('a file name the record does not hold, or an object posing as an upload, is refused', async () => {
    const doc = (await sendForm(t, 'POST', DOCS, [['attachments', textPart('a.txt')]])).json()
    const other = (await sendForm(t, 'POST', DOCS, [['attachments', textPart('b.txt')]])).json()
    for (const attachments of [
      [other.attachments[0]],
      ['../../plinth.db'],
      [{ name: 'x.txt', size: 1, type: 'text/plain' }],
    ]) {
      const response = await t.request({
        method: 'PATCH',
        url: `${DOCS}/${doc.id}`,
        payload: { attachments },
      })
      expect(response.statusCode, JSON.stringify(attachments)).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors.attachments.code).toMatch(/^(unknown_file|invalid_file)$/)
    }
    const created = await t.request({
      method: 'POST',
      url: DOCS,
      payload: { attachments: [other.attachments[0]] },
    })
    expect(created.statusCode).toBe(400)
    expect(created.json().errors.attachments.code).toBe('unknown_file')
    const appended = await t.request({
      method: 'PATCH',
      url: `${DOCS}/${doc.id}`,
      payload: { 'attachments+': 'x.txt' },
    })
    expect(appended.statusCode).toBe(400)
    expect((await t.request({ method: 'GET', url: `${DOCS}/${doc.id}` })).json().attachments).toEqual(
      doc.attachments,
    )
  })

  test('limits and types are refused with a 400 naming the field, and nothing is stored', async () => {
    const html = '<!DOCTYPE html><html><body><script>alert(1)</script></body></html>'
    const cases: Array<
      [string, Array<[string, string | { name: string; bytes: Uint8Array | string; type?: string }]>, string]
    > = [
      [
        'over maxSize',
        [
          [
            'cover',
            {
              name: 'big.png',
              bytes: Buffer.concat([await image('png'), Buffer.alloc(120_000)]),
              type: 'image/png',
            },
          ],
        ],
        'file_too_large',
      ],
      [
        'HTML claiming to be a PNG',
        [['cover', { name: 'x.png', bytes: html, type: 'image/png' }]],
        'invalid_file_type',
      ],
      ['text in an image field', [['cover', textPart('notes.png')]], 'invalid_file_type'],
      [
        'more files than maxSelect',
        [1, 2, 3, 4].map(
          (n) => ['attachments', textPart(`${n}.txt`)] as [string, ReturnType<typeof textPart>],
        ),
        'too_many_files',
      ],
      [
        'two files in a single field',
        [
          ['cover', { name: 'a.png', bytes: await image('png') }],
          ['cover', { name: 'b.png', bytes: await image('png') }],
        ],
        'too_many_files',
      ],
    ]
    for (const [why, entries, code] of cases) {
      const response = await sendForm(t, 'POST', DOCS, entries)
      expect(response.statusCode, why).toBe(400)
      expect(response.headers['content-type'], why).toContain('application/problem+json')
      const [field] = Object.keys(response.json().errors)
      expect(['cover', 'attachments'], why).toContain(field)
      expect(response.json().errors[field!].code, why).toBe(code)
    }
    expect(await settled()).toEqual([])
    expect((await t.request({ method: 'GET', url: DOCS })).json().totalItems).toBe(0)
  })

  test('a refused write stores no file: another field invalid, the create rule, a required file missing', async () => {
    const tooLong = await sendForm(t, 'POST', DOCS, [
      ['title', 'x'.repeat(51)],
      ['attachments', textPart('a.txt')],
    ])
    expect(tooLong.statusCode).toBe(400)
    expect(tooLong.json().errors.title).toBeDefined()
    await t.request({
      method: 'PATCH',
      url: '/api/collections/docs',
      payload: { createRule: 'title = "open"' },
    })
    const anonymous = await sendForm(
      t,
      'POST',
      DOCS,
      [
        ['title', 'closed'],
        ['attachments', textPart('b.txt')],
      ],
      null,
    )
    expect([400, 403]).toContain(anonymous.statusCode)
    const locked = await sendForm(
      t,
      'POST',
      DOCS,
      [
        ['title', 'open'],
        ['attachments', textPart('c.txt')],
      ],
      null,
    )
    expect(locked.statusCode, locked.body).toBe(201)
    await t.request({ method: 'PATCH', url: '/api/collections/docs', payload: { createRule: null } })
    const closed = await sendForm(t, 'POST', DOCS, [['attachments', textPart('d.txt')]], null)
    expect([401, 403]).toContain(closed.statusCode)
    expect(await settled()).toEqual([expect.stringContaining('/c_')])
  })

  test('deleting a record removes its files, also through a cascade', async () => {
    await createCollection(t, {
      name: 'folders',
      fields: [{ name: 'name', type: 'text' }],
    })
    await t.request({
      method: 'PATCH',
      url: '/api/collections/docs',
      payload: {
        fields: [
          ...(await t.request({ method: 'GET', url: '/api/collections/docs' })).json().fields,
          { name: 'folder', type: 'relation', collection: 'folders', onDelete: 'cascade' },
        ],
      },
    })
    const folder = await createRecord(t, 'folders', { name: 'F' })
    const inFolder = await sendForm(t, 'POST', DOCS, [
      ['folder', folder.id as string],
      ['attachments', textPart('in.txt')],
    ])
    expect(inFolder.statusCode, inFolder.body).toBe(201)
    const alone = (await sendForm(t, 'POST', DOCS, [['attachments', textPart('alone.txt')]])).json()
    expect(await originals()).toHaveLength(2)
    expect((await t.request({ method: 'DELETE', url: `${DOCS}/${alone.id}` })).statusCode).toBe(204)
    expect(
      (await t.request({ method: 'DELETE', url: `/api/collections/folders/records/${folder.id}` }))
        .statusCode,
    ).toBe(204)
    expect(await settled()).toEqual([])
  })

  test('dropping the collection removes every file it stored', async () => {
    await sendForm(t, 'POST', DOCS, [['attachments', textPart('a.txt')]])
    expect((await t.request({ method: 'DELETE', url: '/api/collections/docs' })).statusCode).toBe(204)
    expect(await settled()).toEqual([])
  })

  test('stored names are safe whatever the client calls the file', async () => {
    const names = [
      '../../etc/passwd',
      '..\\..\\boot.ini',
      'résumé été.txt',
      '...',
      '.htaccess',
      'a'.repeat(300),
      'x<script>.txt',
      'null\u0000byte.txt',
    ]
    const response = await sendForm(
      t,
      'POST',
      DOCS,
      names.slice(0, 3).map((name) => ['attachments', textPart(name)]),
    )
    expect(response.statusCode, response.body).toBe(201)
    for (const group of [names.slice(3, 6), names.slice(6)]) {
      const more = await sendForm(
        t,
        'POST',
        DOCS,
        group.map((name) => ['attachments', textPart(name)]),
      )
      expect(more.statusCode, more.body).toBe(201)
      for (const stored of more.json().attachments)
        expect(stored).toMatch(/^[a-z0-9_]{1,60}_[a-z0-9]{16}\.[a-z0-9]+$/)
    }
    const stored = response.json().attachments
    // The parser keeps only the last path segment, as browsers send it.
    expect(stored[0]).toMatch(/^passwd_[a-z0-9]{16}\.txt$/)
    expect(stored[2]).toMatch(/^resume_ete_[a-z0-9]{16}\.txt$/)
    const served = await t.request({
      method: 'GET',
      url: `/api/files/docs/${response.json().id}/${stored[2]}`,
    })
    expect(served.headers['content-disposition']).toContain(
      "filename*=UTF-8''r%C3%A9sum%C3%A9%20%C3%A9t%C3%A9.txt",
    )
    for (const key of await originals()) expect(key).not.toContain('..')
  })

  test('form keys that name no file field, or JavaScript’s own properties, are refused and change nothing', async () => {
    const refused: Array<Array<[string, string | ReturnType<typeof textPart>]>> = [
      [['title', { ...textPart('t.txt') }]],
      [['nope', textPart('n.txt')]],
      [['__proto__', textPart('p.txt')]],
      [['constructor', 'x']],
      [['prototype', textPart('p.txt')]],
      [
        ['__proto__', 'x'],
        ['attachments', textPart('a.txt')],
      ],
      [['@jsonPayload', '{"__proto__": {"admin": true}}']],
      [['@jsonPayload', '{not json']],
      [['@jsonPayload', '[1, 2]']],
      [['cover+', textPart('x.txt')]],
    ]
    for (const entries of refused) {
      const response = await sendForm(t, 'POST', DOCS, entries)
      expect(response.statusCode, JSON.stringify(entries.map(([key]) => key))).toBeGreaterThanOrEqual(400)
      expect(response.statusCode).toBeLessThan(500)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    expect(await settled()).toEqual([])
    expect((await t.request({ method: 'GET', url: DOCS })).json().totalItems).toBe(0)
  })

  test('a malformed or truncated form is a 400, not a 500', async () => {
    const boundary = 'plinthboundary'
    const bodies = [
      `--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="a.txt"\r\n\r\nno end`,
      'not a form at all',
      `--${boundary}\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--${boundary}--\r\n`,
    ]
    for (const payload of bodies) {
      const response = await t.request({
        method: 'POST',
        url: DOCS,
        payload,
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      })
      expect(response.statusCode, payload).toBeGreaterThanOrEqual(400)
      expect(response.statusCode, payload).toBeLessThan(500)
    }
    const noBoundary = await t.request({
      method: 'POST',
      url: DOCS,
      payload: 'x',
      headers: { 'content-type': 'multipart/form-data' },
    })
    expect(noBoundary.statusCode).toBeGreaterThanOrEqual(400)
    expect(noBoundary.statusCode).toBeLessThan(500)
    expect(await settled()).toEqual([])
  })

  test('the upload total and the number of parts are limited per request', async () => {
    await t.close()
    t = await createStorageTestApp(kind, storage, { maxUploadBytes: 4096, maxParts: 5 })
    await createCollection(t, {
      name: 'docs',
      fields: [{ name: 'attachments', type: 'file', maxSelect: 10 }],
    })
    const big = await sendForm(
      t,
      'POST',
      DOCS,
      [1, 2, 3].map((n) => ['attachments', textPart(`${n}.txt`, 'x'.repeat(2000))]),
    )
    expect(big.statusCode).toBe(413)
    const many = await sendForm(
      t,
      'POST',
      DOCS,
      [1, 2, 3, 4, 5, 6].map((n) => ['attachments', textPart(`${n}.txt`, 'x')]),
    )
    expect(many.statusCode).toBe(413)
    expect(await settled()).toEqual([])
  })

  test('file field options are checked when the collection is saved', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ maxSize: -1 }, 'maxSize'],
      [{ maxSize: '5mb' }, 'maxSize'],
      [{ maxSelect: 0 }, 'maxSelect'],
      [{ maxSelect: 1000 }, 'maxSelect'],
      [{ mimeTypes: 'image/png' }, 'mimeTypes'],
      [{ mimeTypes: ['PNG'] }, 'mimeTypes'],
      [{ thumbs: ['100'] }, 'thumbs'],
      [{ thumbs: ['0x0'] }, 'thumbs'],
      [{ thumbs: ['99999x10'] }, 'thumbs'],
      [{ protected: 'yes' }, 'protected'],
    ]
    for (const [options, key] of bad) {
      const response = await t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { name: 'bad', fields: [{ name: 'f', type: 'file', ...options }] },
      })
      expect(response.statusCode, JSON.stringify(options)).toBe(400)
      expect(JSON.stringify(response.json().errors), JSON.stringify(options)).toContain(key)
    }
    const docs = (await t.request({ method: 'GET', url: '/api/collections/docs' })).json()
    const fields = docs.fields.map((field: { name: string }) =>
      field.name === 'cover' ? { ...field, maxSelect: 5 } : field,
    )
    const toMany = await t.request({ method: 'PATCH', url: '/api/collections/docs', payload: { fields } })
    expect(toMany.statusCode).toBe(400)
  })
})
