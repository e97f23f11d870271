import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const notes = '/api/collections/notes/records'

describe.each(testDialects)('If-Match on %s', (kind) => {
  let t: TestApp
  let url: string
  let etag: string
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, { name: 'notes', fields: [{ name: 'title', type: 'text' }] })
    const created = await t.request({ method: 'POST', url: notes, payload: { title: 'first' } })
    url = `${notes}/${created.json().id}`
    etag = created.headers.etag as string
  })
  afterEach(async () => t?.close())

  const unchanged = async () => {
    const read = await t.request({ method: 'GET', url })
    expect(read.statusCode).toBe(200)
    expect(read.json().title).toBe('first')
    expect(read.headers.etag).toBe(etag)
  }

  const malformed = [
    { name: 'an unquoted ETag', header: () => etag.slice(1, -1), says: /quoted/ },
    { name: 'a weak ETag', header: () => `W/${etag}`, says: /weak ETags .* never match/ },
    { name: 'a weak ETag in a list', header: () => `"other", W/${etag}`, says: /weak/ },
    { name: 'an empty header', header: () => '', says: /quoted/ },
    { name: 'a list with garbage', header: () => `${etag}, garbage`, says: /quoted/ },
  ]

  test.each(malformed)(
    '$name answers 400 naming the header, on PATCH and DELETE',
    async ({ header, says }) => {
      for (const method of ['PATCH', 'DELETE'] as const) {
        const response = await t.request({
          method,
          url,
          headers: { 'if-match': header() },
          ...(method === 'PATCH' ? { payload: { title: 'changed' } } : {}),
        })
        expect(response.statusCode, `${method} ${response.body}`).toBe(400)
        expect(response.headers['content-type']).toContain('application/problem+json')
        expect(response.json().type).toBe('urn:plinth:error:invalid_header')
        expect(response.json().errors['If-Match'].code).toBe('invalid_header')
        expect(response.json().errors['If-Match'].message).toMatch(says)
      }
      await unchanged()
    },
  )

  test('a list holding the current ETag matches, wherever it stands', async () => {
    const lists = [
      (tag: string) => `"a", ${tag}`,
      (tag: string) => `${tag},"b"`,
      (tag: string) => `"x,y" ,  ${tag} `,
    ]
    for (const list of lists) {
      const header = list(etag)
      const response = await t.request({
        method: 'PATCH',
        url,
        headers: { 'if-match': header },
        payload: { title: 'first' },
      })
      expect(response.statusCode, `${header}: ${response.body}`).toBe(200)
      etag = response.headers.etag as string
    }
  })

  test('a well-formed list without the current ETag answers 412 and changes nothing', async () => {
    for (const method of ['PATCH', 'DELETE'] as const) {
      const response = await t.request({
        method,
        url,
        headers: { 'if-match': '"a", "b,c"' },
        ...(method === 'PATCH' ? { payload: { title: 'changed' } } : {}),
      })
      expect(response.statusCode, response.body).toBe(412)
      expect(response.json().type).toBe('urn:plinth:error:precondition_failed')
    }
    await unchanged()
  })

  test('* matches any existing record', async () => {
    const patch = await t.request({
      method: 'PATCH',
      url,
      headers: { 'if-match': '*' },
      payload: { title: 'x' },
    })
    expect(patch.statusCode).toBe(200)
    const removed = await t.request({ method: 'DELETE', url, headers: { 'if-match': '*' } })
    expect(removed.statusCode).toBe(204)
  })

  test('inside a batch, a malformed If-Match fails the batch and changes nothing', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [{ method: 'PATCH', url, body: { title: 'changed' }, headers: { 'If-Match': 'bare' } }],
      },
    })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ failedStatus: 400, failedCode: 'invalid_header' })
    expect(response.json().errors['If-Match'].code).toBe('invalid_header')
    await unchanged()
  })
})
