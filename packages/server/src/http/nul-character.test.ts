import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const NOTES = '/api/collections/notes/records'
const PASSWORD = 'user password 1'

describe.each(testDialects)('NUL characters in input on %s', (kind) => {
  let t: TestApp
  let noteId: string

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    for (const payload of [
      { name: 'users', type: 'auth', createRule: '' },
      {
        name: 'notes',
        fields: [
          { name: 'title', type: 'text' },
          { name: 'data', type: 'json' },
        ],
      },
    ]) {
      const created = await t.request({ method: 'POST', url: '/api/collections', payload })
      expect(created.statusCode, created.body).toBe(201)
    }
    const note = await t.request({ method: 'POST', url: NOTES, payload: { title: 'kept' } })
    noteId = note.json().id
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  async function expectRefused(
    response: Awaited<ReturnType<TestApp['request']>>,
    where: string,
    code = 'bad_request',
  ) {
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.headers['x-content-type-options']).toBe('nosniff')
    expect(response.json()).toMatchObject({ type: `urn:plinth:error:${code}` })
    expect(response.json().errors[where]).toMatchObject({ code: 'invalid_character' })
    const notes = await t.request({ method: 'GET', url: NOTES })
    expect(notes.json().items.map((note: { title: string }) => note.title)).toEqual(['kept'])
  }

  test.for([
    { name: 'a text field', body: '{"title":"a\\u0000b"}' },
    { name: 'a string inside a json field', body: '{"data":{"k":["\\u0000"]}}' },
    { name: 'a key inside a json field', body: '{"data":{"\\u0000":1}}' },
    { name: 'the escape after an escaped backslash', body: '{"title":"a\\\\\\u0000"}' },
  ])('a body with NUL in $name is refused with 400', async ({ body }) => {
    const response = await t.request({
      method: 'POST',
      url: NOTES,
      headers: { 'content-type': 'application/json' },
      payload: body,
    })
    await expectRefused(response, 'body')
  })

  test('a backslash followed by u0000 is ordinary text, stored as sent', async () => {
    const created = await t.request({
      method: 'POST',
      url: NOTES,
      headers: { 'content-type': 'application/json' },
      payload: '{"title":"a\\\\u0000b"}',
    })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().title).toBe('a\\u0000b')
    await t.request({ method: 'DELETE', url: `${NOTES}/${created.json().id}` })
  })

  test.for([
    { name: 'a record id', method: 'GET', url: `${NOTES}/%00` },
    { name: 'a filter', method: 'GET', url: `${NOTES}?filter=${encodeURIComponent('title = "\u0000"')}` },
    { name: 'a patched record id', method: 'PATCH', url: `${NOTES}/a%00b`, payload: { title: 'x' } },
    { name: 'a session id', method: 'DELETE', url: '/api/auth/sessions/%00' },
    { name: 'an API key id', method: 'DELETE', url: '/api/auth/api-keys/%00' },
  ])('a URL with NUL in $name is refused with 400', async ({ method, url, payload }) => {
    const response = await t.request({ method: method as 'GET', url, payload })
    await expectRefused(response, 'url')
  })

  test('a sign-in with NUL in the identity is a 400, not a failed query', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      auth: null,
      payload: { identity: '\u0000', password: PASSWORD },
    })
    await expectRefused(response, 'body')
  })

  test.for([
    { name: 'NUL in its URL', url: `${NOTES}/%00`, field: 'url' },
    { name: 'a record id that is not valid percent-encoding', url: `${NOTES}/%E0%A4%A` },
    { name: 'a URL that does not parse', url: 'http://[' },
  ])('a batch with $name fails whole with a 400', async ({ url, field }) => {
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: NOTES, body: { title: 'batched' } },
          { method: 'PATCH', url, body: { title: 'changed' } },
        ],
      },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json()).toMatchObject({ failedIndex: 1, failedStatus: 400 })
    if (field) expect(response.json().errors[field]).toMatchObject({ code: 'invalid_character' })
    const kept = await t.request({ method: 'GET', url: `${NOTES}/${noteId}` })
    expect(kept.json().title).toBe('kept')
    const notes = await t.request({ method: 'GET', url: NOTES })
    expect(notes.json().totalItems).toBe(1)
  })
})
