import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const notes = {
  name: 'notes',
  fields: [{ name: 'title', type: 'text' }],
  listRule: '',
  viewRule: '',
  createRule: '',
  updateRule: null,
  deleteRule: null,
}

export async function expectUnpolluted(t: TestApp): Promise<void> {
  const probe = {} as Record<string, unknown>
  for (const name of ['x', 'y', 'polluted', 'title', 'a']) expect(probe[name], name).toBeUndefined()
  const signIn = await t.request({
    method: 'POST',
    url: '/api/collections/_superusers/auth-with-password',
    payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
    auth: null,
  })
  expect(signIn.statusCode, signIn.body).toBe(200)
  await createRecord(t, 'notes', { title: 'still works' })
}

describe.each(testDialects)('prototype keys in client input on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, notes)
    await createRecord(t, 'notes', { title: 'first' })
  })
  afterEach(async () => t?.close())

  test.each([
    'expand.__proto__.x',
    'expand.constructor.prototype.y',
    '__proto__',
    'title,__proto__.polluted',
    'expand.prototype',
  ])('fields=%s answers 400 and pollutes nothing', async (fields) => {
    for (const auth of [null, undefined]) {
      const list = await t.request({
        method: 'GET',
        url: `/api/collections/notes/records?fields=${encodeURIComponent(fields)}`,
        auth,
      })
      expect(list.statusCode, list.body).toBe(400)
      expect(list.json().errors.fields.code).toBe('invalid_fields')
    }
    await expectUnpolluted(t)
  })

  test.each(['__proto__', 'constructor', 'prototype'])(
    'a filter, sort or rule naming %s answers 400',
    async (name) => {
      const asked = [
        `filter=${encodeURIComponent(`${name}.x = 1`)}`,
        `filter=${encodeURIComponent(`@request.query.${name} = 1`)}`,
        `filter=${encodeURIComponent(`title.${name} = 1`)}`,
        `sort=${name}`,
        `sort=-title.${name}`,
      ]
      for (const query of asked) {
        const list = await t.request({ method: 'GET', url: `/api/collections/notes/records?${query}` })
        expect(list.statusCode, `${query}: ${list.body}`).toBe(400)
        expect(list.json().detail, query).toContain('reserved')
      }
      const rule = await t.request({
        method: 'PATCH',
        url: '/api/collections/notes',
        payload: { listRule: `@request.body.${name} = 1` },
      })
      expect(rule.statusCode, rule.body).toBe(400)
      expect(rule.json().errors.listRule.code).toBe('invalid_rule')
      await expectUnpolluted(t)
    },
  )

  test.each([
    '{"__proto__":{"polluted":true}}',
    '{"title":"t","constructor":{"prototype":{"polluted":true}}}',
  ])('a JSON body %s is refused before any route', async (body) => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      headers: { 'content-type': 'application/json' },
      body,
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:malformed_json')
    await expectUnpolluted(t)
  })

  test.each(['constructor', 'prototype'])('%s is not a collection or field name', async (name) => {
    const collection = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name, fields: [{ name: 'title', type: 'text' }] },
    })
    expect(collection.statusCode, collection.body).toBe(400)
    expect(collection.json().errors.name.code).toBeTypeOf('string')
    const field = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'other', fields: [{ name, type: 'text' }] },
    })
    expect(field.statusCode, field.body).toBe(400)
    expect(field.json().errors['fields.0.name'].code).toBe('invalid_name')
    const listed = await t.request({ method: 'GET', url: '/api/collections' })
    expect(listed.json().items.map((c: { name: string }) => c.name)).not.toContain('other')
  })
})
