import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const NOTES = '/api/collections/notes/records'
const JSON_TYPE = { 'content-type': 'application/json' }

// The PocketBase JS SDK sends DELETE with this header and no body.
describe.each(testDialects)('application/json with an empty body on %s', (kind) => {
  let t: TestApp

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    t = await createTestApp(kind)
    await createCollection(t, { name: 'notes', fields: [{ name: 'title', type: 'text', required: true }] })
  })
  afterAll(async () => t?.close())
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })

  test('DELETE answers 204', async () => {
    const note = await createRecord(t, 'notes', { title: 'gone soon' })
    const response = await t.request({
      method: 'DELETE',
      url: `${NOTES}/${note.id}`,
      headers: JSON_TYPE,
      body: '',
    })
    expect(response.statusCode, response.body).toBe(204)
    const read = await t.request({ method: 'GET', url: `${NOTES}/${note.id}` })
    expect(read.statusCode).toBe(404)
  })

  test('POST gets the answer of a create without a body', async () => {
    const response = await t.request({ method: 'POST', url: NOTES, headers: JSON_TYPE, body: '' })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors.body.code).toBe('invalid_type')
  })

  test('PATCH without a body changes nothing and answers as an update without a body', async () => {
    const note = await createRecord(t, 'notes', { title: 'kept' })
    const response = await t.request({
      method: 'PATCH',
      url: `${NOTES}/${note.id}`,
      headers: JSON_TYPE,
      body: '',
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors.body.code).toBe('invalid_type')
    const read = await t.request({ method: 'GET', url: `${NOTES}/${note.id}` })
    expect(read.json().title).toBe('kept')
  })

  test('a route with a body schema gives its own validation answer', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/_superusers/auth-with-password',
      headers: JSON_TYPE,
      body: '',
      auth: null,
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().type).not.toContain('malformed_json')
  })
})
