import { parse as parseDisposition } from 'content-disposition'
import { afterAll, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { image, sendForm } from '../test-support/files.js'

const TEXT = 'abcdefghijklmnopqrstuvwxyz0123456789'
const HTML = '<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>'
const SVG = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
const PDF = '%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'

/** The uploads every test reads, by the name the test knows them under. */
const uploads = {
  text: { name: 'notes.txt', bytes: TEXT, type: 'text/plain' },
  html: { name: 'page.html', bytes: HTML, type: 'text/html' },
  svg: { name: 'drawing.svg', bytes: SVG, type: 'image/svg+xml' },
  pdf: { name: 'résumé 2026.pdf', bytes: PDF, type: 'application/pdf' },
  tricky: { name: 'x; filename=evil.html.txt', bytes: 'tricky', type: 'text/plain' },
}
type Upload = keyof typeof uploads | 'photo' | 'secret'

describe.each(testDialects)('serving files on %s', (kind) => {
  let t: TestApp
  let png: Buffer
  let recordId: string
  let collectionId: string
  const stored = {} as Record<Upload, string>

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    collectionId = (
      await createCollection(t, {
        name: 'docs',
        fields: [
          { name: 'photo', type: 'file', mimeTypes: ['image/*'] },
          { name: 'attachments', type: 'file', maxSelect: 10 },
          { name: 'secret', type: 'file', protected: true },
        ],
        viewRule: '',
      })
    ).id
    png = await image('png', 64, 48)
    const keys = Object.keys(uploads) as (keyof typeof uploads)[]
    const created = await sendForm(t, 'POST', '/api/collections/docs/records', [
      ['photo', { name: 'Photo.png', bytes: png, type: 'image/png' }],
      ...keys.map((key) => ['attachments', uploads[key]] as [string, (typeof uploads)[typeof key]]),
      ['secret', { name: 'secret.txt', bytes: 'for your eyes only', type: 'text/plain' }],
    ])
    expect(created.statusCode, created.body).toBe(201)
    const record = created.json()
    recordId = record.id
    stored.photo = record.photo
    stored.secret = record.secret
    keys.forEach((key, index) => {
      stored[key] = record.attachments[index]
    })
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  const fileUrl = (upload: Upload, query = '') => `/api/files/docs/${recordId}/${stored[upload]}${query}`
  const get = (upload: Upload, headers: Record<string, string> = {}, query = '') =>
    t.request({ method: 'GET', url: fileUrl(upload, query), headers, auth: null })

  test('a file is served whole with its bytes, validators and security headers', async () => {
    const response = await get('photo')
    expect(response.statusCode).toBe(200)
    expect(response.rawPayload.equals(png)).toBe(true)
    expect(response.headers).toMatchObject({
      'content-type': 'image/png',
      'content-length': String(png.length),
      etag: `"${stored.photo}"`,
      'accept-ranges': 'bytes',
      'cache-control': 'public, max-age=86400',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'; sandbox",
      'cross-origin-resource-policy': 'cross-origin',
    })
    expect(Date.parse(String(response.headers['last-modified']))).not.toBeNaN()
    const text = await get('text')
    expect(text.body).toBe(TEXT)
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8')
  })

  test('the collection may be named by its id', async () => {
    const response = await t.request({
      method: 'GET',
      url: `/api/files/${collectionId}/${recordId}/${stored.text}`,
      auth: null,
    })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe(TEXT)
  })

  const size = TEXT.length
  const ranges = [
    { range: 'bytes=0-4', contentRange: `bytes 0-4/${size}`, body: 'abcde' },
    { range: 'bytes=-5', contentRange: `bytes ${size - 5}-${size - 1}/${size}`, body: '56789' },
    { range: 'bytes=10-', contentRange: `bytes 10-${size - 1}/${size}`, body: TEXT.slice(10) },
    { range: 'bytes=30-999', contentRange: `bytes 30-${size - 1}/${size}`, body: TEXT.slice(30) },
    { range: 'bytes=5-5', contentRange: `bytes 5-5/${size}`, body: 'f' },
    // Overlapping ranges are one range once combined.
    { range: 'bytes=0-3,2-6', contentRange: `bytes 0-6/${size}`, body: 'abcdefg' },
  ]
  test.for(ranges)(
    'Range $range is answered 206 with $contentRange',
    async ({ range, contentRange, body }) => {
      const response = await get('text', { range })
      expect(response.statusCode).toBe(206)
      expect(response.headers['content-range']).toBe(contentRange)
      expect(response.headers['content-length']).toBe(String(body.length))
      expect(response.body).toBe(body)
    },
  )

  test.for([
    { why: 'a range past the end', range: `bytes=${size}-${size + 10}` },
    { why: 'a suffix of nothing', range: 'bytes=-0' },
  ])('$why is 416 with the size in Content-Range', async ({ range }) => {
    const response = await get('text', { range })
    expect(response.statusCode).toBe(416)
    expect(response.headers['content-range']).toBe(`bytes */${size}`)
    expect(response.body).toBe('')
  })

  test.for<{ why: string; headers: Record<string, string> }>([
    { why: 'several ranges', headers: { range: 'bytes=0-1,5-6' } },
    { why: 'a malformed range', headers: { range: 'bytes=x-y' } },
    { why: 'another unit', headers: { range: 'items=0-1' } },
    { why: 'an If-Range of another version', headers: { range: 'bytes=0-4', 'if-range': '"other"' } },
    { why: 'an If-Range date', headers: { range: 'bytes=0-4', 'if-range': new Date(0).toUTCString() } },
  ])('$why is answered with the whole file', async ({ headers }) => {
    const response = await get('text', headers)
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-range']).toBeUndefined()
    expect(response.body).toBe(TEXT)
  })

  test('an If-Range of the current ETag keeps the range, and its weak form does not', async () => {
    const response = await get('text', { range: 'bytes=0-4', 'if-range': `"${stored.text}"` })
    expect(response.statusCode).toBe(206)
    expect(response.body).toBe('abcde')
    // RFC 9110 §13.1.5: If-Range uses the strong comparison, which a weak tag never passes.
    const weak = await get('text', { range: 'bytes=0-4', 'if-range': `W/"${stored.text}"` })
    expect(weak.statusCode).toBe(200)
    expect(weak.body).toBe(TEXT)
  })

  test('conditional requests answer 304 with no body while the validators match', async () => {
    const first = await get('photo')
    const etag = String(first.headers.etag)
    const lastModified = String(first.headers['last-modified'])
    const later = new Date(Date.parse(lastModified) + 60_000).toUTCString()
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString()
    const cases: Array<[Record<string, string>, number]> = [
      [{ 'if-none-match': etag }, 304],
      [{ 'if-none-match': `"stale", ${etag}` }, 304],
      [{ 'if-none-match': '*' }, 304],
      // RFC 9110 §13.1.2: If-None-Match uses the weak comparison; proxies that compress weaken tags.
      [{ 'if-none-match': `W/${etag}` }, 304],
      [{ 'if-none-match': `"stale",W/${etag}` }, 304],
      [{ 'if-none-match': '"stale"' }, 200],
      [{ 'if-modified-since': lastModified }, 304],
      [{ 'if-modified-since': later }, 304],
      [{ 'if-modified-since': earlier }, 200],
      [{ 'if-modified-since': 'not a date' }, 200],
      // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
      [{ 'if-none-match': '"stale"', 'if-modified-since': later }, 200],
    ]
    for (const [headers, status] of cases) {
      const response = await get('photo', headers)
      expect(response.statusCode, JSON.stringify(headers)).toBe(status)
      if (status === 304) {
        expect(response.rawPayload.length).toBe(0)
        expect(response.headers.etag).toBe(etag)
      } else expect(response.rawPayload.equals(png)).toBe(true)
    }
  })

  test('HEAD answers the headers of GET without a body, and without reading the file', async () => {
    // A HEAD of a large video must not pull the whole object from storage only to drop it.
    const read = vi.spyOn(t.app.plinth.files.storage, 'read')
    try {
      const whole = await t.request({ method: 'HEAD', url: fileUrl('photo'), auth: null })
      expect(whole.statusCode).toBe(200)
      expect(whole.headers['content-length']).toBe(String(png.length))
      expect(whole.headers['content-type']).toBe('image/png')
      expect(whole.headers.etag).toBe(`"${stored.photo}"`)
      expect(whole.rawPayload.length).toBe(0)
      const part = await t.request({
        method: 'HEAD',
        url: fileUrl('text'),
        headers: { range: 'bytes=0-4' },
        auth: null,
      })
      expect(part.statusCode).toBe(206)
      expect(part.headers['content-range']).toBe(`bytes 0-4/${size}`)
      expect(part.headers['content-length']).toBe('5')
      expect(part.rawPayload.length).toBe(0)
      expect(read).not.toHaveBeenCalled()
    } finally {
      read.mockRestore()
    }
  })

  const originalName = (upload: Upload) =>
    upload === 'photo' ? 'Photo.png' : upload === 'secret' ? 'secret.txt' : uploads[upload].name
  const dispositions: Array<{ upload: Upload; query: string; disposition: string; type: string }> = [
    { upload: 'photo', query: '', disposition: 'inline', type: 'image/png' },
    { upload: 'text', query: '', disposition: 'inline', type: 'text/plain; charset=utf-8' },
    { upload: 'pdf', query: '', disposition: 'inline', type: 'application/pdf' },
    // Active content never renders as a page of this origin, whatever the field allows.
    { upload: 'html', query: '', disposition: 'attachment', type: 'application/octet-stream' },
    { upload: 'svg', query: '', disposition: 'attachment', type: 'application/octet-stream' },
    { upload: 'photo', query: '?download=1', disposition: 'attachment', type: 'image/png' },
    { upload: 'photo', query: '?download=true', disposition: 'attachment', type: 'image/png' },
    { upload: 'photo', query: '?download=0', disposition: 'inline', type: 'image/png' },
    { upload: 'photo', query: '?download=false', disposition: 'inline', type: 'image/png' },
    { upload: 'text', query: '?download=1', disposition: 'attachment', type: 'application/octet-stream' },
  ]
  test.for(dispositions)(
    '$upload $query is served as $disposition, $type',
    async ({ upload, query, disposition, type }) => {
      const response = await get(upload, {}, query)
      expect(response.statusCode).toBe(200)
      const parsed = parseDisposition(String(response.headers['content-disposition']))
      expect(parsed.type).toBe(disposition)
      expect(parsed.parameters.filename).toBe(originalName(upload))
      expect(response.headers['content-type']).toBe(type)
      expect(response.headers['x-content-type-options']).toBe('nosniff')
    },
  )

  test('the download name is the original one, encoded by RFC 6266 and RFC 5987', async () => {
    const pdf = await get('pdf')
    expect(pdf.headers['content-disposition']).toBe(
      `inline; filename="r?sum? 2026.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.pdf`,
    )
    const tricky = parseDisposition(String((await get('tricky')).headers['content-disposition']))
    // The name stays one quoted parameter: no second filename can be smuggled in.
    expect(tricky).toEqual({ type: 'inline', parameters: { filename: uploads.tricky.name } })
  })

  test('a protected file is cached privately only', async () => {
    const response = await t.request({ method: 'GET', url: fileUrl('secret') })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('for your eyes only')
    expect(response.headers['cache-control']).toBe('private, no-cache')
    const ranged = await t.request({ method: 'GET', url: fileUrl('secret'), headers: { range: 'bytes=0-2' } })
    expect(ranged.statusCode).toBe(206)
    expect(ranged.headers['cache-control']).toBe('private, no-cache')
  })
})
