import PocketBase, { ClientResponseError } from 'pocketbase'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { listen } from '../test-support/realtime-blog.js'

const NOTES = '/api/collections/notes/records'

/**
 * PocketBase's error body is `{status, message, data: {field: {code, message}}}`, and its
 * SDK reads `message` and `data`. Every problem carries both beside RFC 9457's members.
 */
describe.each(testDialects)('errors as PocketBase clients read them on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, {
      name: 'notes',
      fields: [
        { name: 'title', type: 'text', required: true, max: 20 },
        { name: 'views', type: 'number' },
      ],
      listRule: '',
      viewRule: '',
      createRule: '',
    })
  })
  afterEach(async () => t?.close())

  function expectReadable(body: Record<string, any>) {
    expect(body.message).toBe(body.detail)
    expect(body.data).toEqual(body.errors ?? {})
    expect(body).toMatchObject({
      type: expect.any(String),
      title: expect.any(String),
      status: expect.any(Number),
    })
  }

  test.each([
    ['a wrong type and a missing field', { views: 'many' }, ['title', 'views']],
    ['an unknown field', { title: 'ok', nope: 1 }, ['nope']],
    ['a prototype key', '{"title":"ok","__proto__":{"admin":true}}', ['body']],
    ['malformed JSON', '{"title": ', ['body']],
    ['an injection string too long for its field', { title: "' OR 1=1 -- ".repeat(5) }, ['title']],
  ])('%s: data names each field with the same code and message as errors', async (_name, payload, fields) => {
    const response = await t.request({
      method: 'POST',
      url: NOTES,
      auth: null,
      headers: { 'content-type': 'application/json' },
      body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    const body = response.json()
    expectReadable(body)
    for (const field of fields)
      expect(body.data[field]).toEqual({ code: expect.any(String), message: expect.any(String) })
    expect(await countRecords(t, 'notes')).toBe(0)
  })

  test('an error without fields has an empty data object', async () => {
    const response = await t.request({ method: 'GET', url: `${NOTES}/${'0'.repeat(8)}`, auth: null })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ data: {}, message: 'The record was not found.' })
    expect(response.json()).not.toHaveProperty('errors')
  })

  test('a failed batch keeps failedIndex, and data names the failing field', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/batch',
      payload: {
        requests: [
          { method: 'POST', url: NOTES, body: { title: 'first' } },
          { method: 'POST', url: NOTES, body: { title: 42 } },
        ],
      },
    })
    expect(response.statusCode).toBe(400)
    const body = response.json()
    expectReadable(body)
    expect(body).toMatchObject({ failedIndex: 1, data: { title: { code: expect.any(String) } } })
    expect(await countRecords(t, 'notes')).toBe(0)
  })

  test('a filter problem keeps its position beside message and data', async () => {
    const filter = await t.request({
      method: 'GET',
      url: `${NOTES}?filter=${encodeURIComponent('title = ')}`,
      auth: null,
    })
    expect(filter.statusCode).toBe(400)
    expectReadable(filter.json())
    expect(filter.json()).toMatchObject({
      position: expect.any(Number),
      data: { filter: { code: 'invalid_filter' } },
    })
  })

  test('the SDK shows the detail as the error message and the field errors as data', async () => {
    const pb = new PocketBase(await listen(t))
    const refused = await pb
      .collection('notes')
      .create({ title: 'x'.repeat(21), views: 'many' })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ClientResponseError)
    const error = refused as ClientResponseError
    expect(error.status).toBe(400)
    expect(error.message).toBe(error.response.detail)
    expect(error.message).not.toBe('Something went wrong.')
    expect(Object.keys(error.response.data).sort()).toEqual(['title', 'views'])
    expect(error.response.data.title.code).toBeTypeOf('string')

    const missing = await pb
      .collection('notes')
      .getOne('0'.repeat(8))
      .catch((e: unknown) => e)
    expect((missing as ClientResponseError).status).toBe(404)
    expect((missing as ClientResponseError).message).toBe('The record was not found.')
    expect((missing as ClientResponseError).response.data).toEqual({})
  })
})
