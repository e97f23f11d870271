import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const users = {
  name: 'users',
  type: 'auth',
  fields: [
    { name: 'role', type: 'text' },
    { name: 'notes', type: 'text', hidden: true },
  ],
}
const staff = { name: 'staff', type: 'auth', fields: [{ name: 'desk', type: 'text' }] }
const notes = { name: 'notes', fields: [{ name: 'title', type: 'text' }] }

const refused = [
  { name: 'a typo', rule: '@request.auth.rol = "admin"', message: /@request\.auth\.rol names no field/ },
  { name: 'password', rule: '@request.auth.password != ""', message: /password is never available/ },
  { name: 'tokenKey', rule: '@request.auth.tokenKey != ""', message: /tokenKey is never available/ },
  {
    name: 'an unknown field inside ||',
    rule: '@request.auth.id != "" || (@request.auth.nope = 1)',
    message: /@request\.auth\.nope names no field/,
  },
  { name: 'an unknown relation path', rule: '@request.auth.team.name = "Red"', message: /auth\.team names/ },
]

const accepted = [
  { name: 'id', rule: '@request.auth.id != ""' },
  { name: 'collectionName', rule: '@request.auth.collectionName = "users"' },
  { name: 'a system field', rule: '@request.auth.verified = true && @request.auth.email != ""' },
  { name: 'a field of one auth collection', rule: '@request.auth.role = "admin"' },
  { name: 'a field of another auth collection', rule: '@request.auth.desk = "7"' },
  { name: 'a hidden field', rule: '@request.auth.notes = ""' },
]

describe.each(testDialects)('rules naming @request.auth fields on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, users)
    await createCollection(t, staff)
  })
  afterEach(async () => t?.close())

  const collection = (name: string) => t.request({ method: 'GET', url: `/api/collections/${name}` })

  test.each(refused)(
    '$name is refused on create, naming the rule, and creates nothing',
    async ({ rule, message }) => {
      const response = await t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { ...notes, listRule: '', viewRule: rule },
      })
      expect(response.statusCode, response.body).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().errors.viewRule.code).toBe('invalid_rule')
      expect(response.json().errors.viewRule.message).toMatch(message)
      expect(Object.keys(response.json().errors)).toEqual(['viewRule'])
      expect((await collection('notes')).statusCode).toBe(404)
    },
  )

  test.each(refused)('$name is refused on update and changes nothing', async ({ rule, message }) => {
    const created = await createCollection(t, { ...notes, updateRule: '@request.auth.id != ""' })
    const response = await t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { updateRule: rule },
    })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors.updateRule.message).toMatch(message)
    expect((await collection('notes')).json().updateRule).toBe(created.updateRule)
  })

  test.each(accepted)('$name is accepted', async ({ rule }) => {
    await createCollection(t, { ...notes, listRule: rule })
  })

  test('an auth collection may name its own new field in its rules', async () => {
    await createCollection(t, {
      name: 'members',
      type: 'auth',
      fields: [{ name: 'level', type: 'number' }],
      listRule: '@request.auth.level > 2',
    })
  })

  test('dropping the last auth field a rule names is refused until the rule changes', async () => {
    await createCollection(t, { ...notes, listRule: '@request.auth.role = "admin"' })
    const drop = { fields: [{ name: 'notes', type: 'text', hidden: true }] }
    const refusedDrop = await t.request({ method: 'PATCH', url: '/api/collections/users', payload: drop })
    expect(refusedDrop.statusCode, refusedDrop.body).toBe(400)
    expect(refusedDrop.json().errors['notes.listRule'].message).toMatch(
      /@request\.auth\.role, which no auth collection would have after this change/,
    )
    const fields = (await collection('users')).json().fields.map((f: { name: string }) => f.name)
    expect(fields).toContain('role')

    const ruleChanged = await t.request({
      method: 'PATCH',
      url: '/api/collections/notes',
      payload: { listRule: '@request.auth.id != ""' },
    })
    expect(ruleChanged.statusCode, ruleChanged.body).toBe(200)
    const dropped = await t.request({ method: 'PATCH', url: '/api/collections/users', payload: drop })
    expect(dropped.statusCode, dropped.body).toBe(200)
  })

  test('deleting the only auth collection with a field a rule names is refused', async () => {
    await createCollection(t, { ...notes, listRule: '@request.auth.desk = "7"' })
    const response = await t.request({ method: 'DELETE', url: '/api/collections/staff' })
    expect(response.statusCode, response.body).toBe(400)
    expect(response.json().errors['notes.listRule'].code).toBe('invalid_rule')
    expect((await collection('staff')).statusCode).toBe(200)
  })

  test('a field that another auth collection still has may be dropped', async () => {
    await createCollection(t, {
      name: 'members',
      type: 'auth',
      fields: [{ name: 'role', type: 'text' }],
    })
    await createCollection(t, { ...notes, listRule: '@request.auth.role = "admin"' })
    const response = await t.request({
      method: 'PATCH',
      url: '/api/collections/users',
      payload: { fields: [{ name: 'notes', type: 'text', hidden: true }] },
    })
    expect(response.statusCode, response.body).toBe(200)
  })
})
