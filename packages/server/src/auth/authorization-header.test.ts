import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { countRecords, createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const NOTES = '/api/collections/notes/records'

/**
 * PocketBase clients send `Authorization: <token>`; everything else sends `Bearer <token>`.
 * Both must name the same caller, for access tokens and API keys alike.
 */
describe.each(testDialects)('the Authorization header on %s', (kind) => {
  let t: TestApp
  let ann: { id: string; token: string; key: string }

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await createCollection(t, {
      name: 'notes',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'owner', type: 'relation', collection: 'users', maxSelect: 1 },
      ],
      listRule: 'owner = @request.auth.id',
      viewRule: 'owner = @request.auth.id',
      createRule: '@request.auth.id != "" && owner = @request.auth.id',
    })
    const id = await signUp(t, 'ann@example.com')
    const token = (await passwordSignIn(t, 'ann@example.com')).json().token as string
    const key = await t.request({
      method: 'POST',
      url: '/api/auth/api-keys',
      auth: token,
      payload: { name: 'script', scopes: [{ collection: 'notes', operations: ['list', 'create'] }] },
    })
    expect(key.statusCode, key.body).toBe(201)
    ann = { id, token, key: key.json().key }
  })
  afterEach(async () => {
    vi.useRealTimers()
    await t?.close()
  })

  const send = (authorization: string, method: 'GET' | 'POST' = 'GET') =>
    t.request({
      method,
      url: NOTES,
      auth: null,
      headers: { authorization },
      ...(method === 'POST' ? { payload: { title: 'mine', owner: ann.id } } : {}),
    })

  test.each([
    ['an access token after Bearer', () => `Bearer ${ann.token}`],
    ['a bare access token', () => ann.token],
    ['an API key after Bearer', () => `Bearer ${ann.key}`],
    ['a bare API key', () => ann.key],
    ['a bare access token with surrounding spaces', () => `  ${ann.token} `],
  ])('%s acts as its owner for reads and writes', async (_name, header) => {
    const created = await send(header(), 'POST')
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().owner).toBe(ann.id)
    const listed = await send(header())
    expect(listed.statusCode).toBe(200)
    expect(listed.json().items.map((note: { id: string }) => note.id)).toEqual([created.json().id])
  })

  test('the bare form reaches routes that need a signed-in session', async () => {
    const sessions = await t.request({
      method: 'GET',
      url: '/api/auth/sessions',
      auth: null,
      headers: { authorization: ann.token },
    })
    expect(sessions.statusCode, sessions.body).toBe(200)
    expect(sessions.json().items).toHaveLength(1)
    // A key stays a key whichever way it is written: it cannot manage sessions.
    const withKey = await t.request({
      method: 'GET',
      url: '/api/auth/sessions',
      auth: null,
      headers: { authorization: ann.key },
    })
    expect(withKey.statusCode).toBe(403)
  })

  const malformed: Array<[string, () => string]> = [
    ['the scheme alone', () => 'Bearer'],
    ['the scheme with a space', () => 'Bearer '],
    ['two spaces after the scheme', () => `Bearer  x${ann.token}`],
    ['another scheme', () => 'Basic Zm9vOmJhcg=='],
    ['another scheme before a token', () => `Token ${ann.token}`],
    ['a token followed by more', () => `${ann.token} ${ann.token}`],
    ['a token with a character outside base64url', () => `${ann.token.slice(0, -1)}*`],
    ['a garbage bare token', () => 'a.b.c'],
    ['a bare API key that does not exist', () => `plk_${'0'.repeat(16)}_${'x'.repeat(43)}`],
    ['a bare API key cut short', () => ann.key.slice(0, 20)],
    ['an API key with a space in it', () => `${ann.key.slice(0, 10)} ${ann.key.slice(10)}`],
    ['an injection string', () => "' OR 1=1 --"],
    ['a prototype key', () => '__proto__'],
    ['constructor', () => 'constructor'],
    ['a huge value', () => `Bearer ${'x'.repeat(7000)}`],
  ]

  test.each(malformed)('%s is a 401 problem+json and writes nothing', async (_name, header) => {
    for (const method of ['GET', 'POST'] as const) {
      const response = await send(header(), method)
      expect(response.statusCode, `${method} ${response.body}`).toBe(401)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).toMatchObject({ status: 401, type: 'urn:plinth:error:invalid_token' })
    }
    expect(await countRecords(t, 'notes')).toBe(0)
  })

  test('a token of a session that ended is refused in both forms', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const out = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-logout',
      auth: null,
      headers: { authorization: ann.token },
    })
    expect(out.statusCode).toBe(204)
    // Verified tokens are remembered for under a second (see docs/security.md).
    vi.setSystemTime(Date.now() + 1000)
    for (const header of [ann.token, `Bearer ${ann.token}`]) {
      const response = await send(header)
      expect(response.statusCode).toBe(401)
      expect(response.json().type).toBe('urn:plinth:error:invalid_token')
    }
    // The key is not tied to the session: it keeps working after the sign-out, bare or not.
    expect((await send(ann.key)).statusCode).toBe(200)
  })
})
