import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const USERS = '/api/collections/users'
const SESSION_TTL = 300

interface Tokens {
  token: string
  refreshToken: string
  record: { id: string }
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
}

/**
 * `POST …/auth-refresh` with only the access token, as the PocketBase SDK's authRefresh()
 * sends it: a new access token for the same session, while that session lasts.
 */
describe.each(testDialects)('refreshing with the access token alone on %s', (kind) => {
  let t: TestApp
  let ann: Tokens

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, { sessionTtl: SESSION_TTL })
    await createCollection(t, { name: 'users', type: 'auth', createRule: '', viewRule: '' })
    await signUp(t, 'ann@example.com')
    await signUp(t, 'bob@example.com')
    ann = await signIn('ann@example.com')
  })
  afterEach(async () => {
    vi.useRealTimers()
    await t?.close()
  })

  async function signIn(email: string): Promise<Tokens> {
    const response = await passwordSignIn(t, email)
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }
  /** The SDK's request: the bare token, `content-type: application/json` and no body. */
  const refreshWith = (authorization: string | null, body?: string, collection = 'users') =>
    t.request({
      method: 'POST',
      url: `/api/collections/${collection}/auth-refresh`,
      auth: null,
      headers: {
        'content-type': 'application/json',
        ...(authorization === null ? {} : { authorization }),
      },
      body: body ?? '',
    })
  const rotate = (refreshToken: string) =>
    t.request({ method: 'POST', url: `${USERS}/auth-refresh`, auth: null, payload: { refreshToken } })
  const sessionsOf = (token: string) => t.request({ method: 'GET', url: '/api/auth/sessions', auth: token })

  test.each([
    ['the bare token', (token: string) => token],
    ['Bearer and the token', (token: string) => `Bearer ${token}`],
  ])('%s gives a new access token of the same session and no refresh token', async (_name, header) => {
    const response = await refreshWith(header(ann.token))
    expect(response.statusCode, response.body).toBe(200)
    const body = response.json()
    expect(Object.keys(body).sort()).toEqual(['record', 'token'])
    expect(body.record).toMatchObject({
      id: ann.record.id,
      email: 'ann@example.com',
      collectionName: 'users',
    })
    const [before, after] = [claimsOf(ann.token), claimsOf(body.token)]
    expect(after).toMatchObject({ sub: ann.record.id, sid: before.sid, col: 'users', typ: 'access' })
    // A refresh is not a sign-in: the time of the sign-in stays, so recent-sign-in checks do not renew.
    expect(after.auth_time).toBe(before.auth_time)
    const sessions = await sessionsOf(body.token)
    expect(sessions.statusCode).toBe(200)
    expect(sessions.json().items).toHaveLength(1)
  })

  test('the refresh token of the session keeps rotating, and its reuse still ends the session', async () => {
    expect((await refreshWith(ann.token)).statusCode).toBe(200)
    const rotated = await rotate(ann.refreshToken)
    expect(rotated.statusCode, rotated.body).toBe(200)
    const replay = await rotate(ann.refreshToken)
    expect(replay.statusCode).toBe(401)
    // Reuse ended the session, so neither its refresh tokens nor its access tokens refresh any more.
    const tokenOnly = await refreshWith(rotated.json().token)
    expect(tokenOnly.statusCode).toBe(401)
    expect(tokenOnly.json().type).toBe('urn:plinth:error:invalid_token')
    expect((await rotate(rotated.json().refreshToken)).statusCode).toBe(401)
  })

  test('a refresh token in the body wins over the access token, and is spent', async () => {
    const response = await t.request({
      method: 'POST',
      url: `${USERS}/auth-refresh`,
      auth: ann.token,
      payload: { refreshToken: ann.refreshToken },
    })
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json().refreshToken).toBeTypeOf('string')
    expect((await rotate(ann.refreshToken)).statusCode).toBe(401)
  })

  test.each([
    [
      'sign-out',
      async () => {
        const out = await t.request({ method: 'POST', url: `${USERS}/auth-logout`, auth: ann.token })
        expect(out.statusCode).toBe(204)
      },
    ],
    [
      'revoking the session from another one',
      async () => {
        const other = await signIn('ann@example.com')
        const listed = (await sessionsOf(other.token)).json().items as Array<{ id: string; current: boolean }>
        const target = listed.find((session) => !session.current)!
        const revoked = await t.request({
          method: 'DELETE',
          url: `/api/auth/sessions/${target.id}`,
          auth: other.token,
        })
        expect(revoked.statusCode).toBe(204)
      },
    ],
    [
      'a new password',
      async () => {
        const changed = await t.request({
          method: 'PATCH',
          url: `${USERS}/records/${ann.record.id}`,
          payload: { password: 'another password 2', passwordConfirm: 'another password 2' },
        })
        expect(changed.statusCode, changed.body).toBe(200)
      },
    ],
  ])('after %s the access token refreshes no more, at once', async (_name, end) => {
    await end()
    const response = await refreshWith(ann.token)
    expect(response.statusCode).toBe(401)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().type).toBe('urn:plinth:error:invalid_token')
  })

  test('refreshing never moves the end of the session', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + (SESSION_TTL - 60) * 1000)
    const late = await refreshWith(ann.token)
    expect(late.statusCode, late.body).toBe(200)
    vi.setSystemTime(Date.now() + 61 * 1000)
    const after = await refreshWith(late.json().token)
    expect(after.statusCode).toBe(401)
    expect(after.json().type).toBe('urn:plinth:error:invalid_token')
  })

  test('an expired access token does not refresh', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const longer = await createTestApp(kind)
    try {
      await createCollection(longer, { name: 'users', type: 'auth', createRule: '' })
      await signUp(longer, 'cid@example.com')
      const { token } = (await passwordSignIn(longer, 'cid@example.com')).json()
      vi.setSystemTime(Date.now() + 16 * 60 * 1000)
      const response = await longer.request({
        method: 'POST',
        url: `${USERS}/auth-refresh`,
        auth: null,
        headers: { authorization: token },
      })
      expect(response.statusCode).toBe(401)
      expect(response.json().type).toBe('urn:plinth:error:invalid_token')
    } finally {
      await longer.close()
    }
  })

  describe('who may refresh', () => {
    test('anonymous, with neither token: 401', async () => {
      for (const body of ['', '{}']) {
        const response = await refreshWith(null, body)
        expect(response.statusCode, body).toBe(401)
        expect(response.headers['content-type']).toContain('application/problem+json')
        expect(response.json().detail).toContain('refreshToken')
      }
    })

    test("another user's token refreshes that user's own session only", async () => {
      const bob = await signIn('bob@example.com')
      const response = await refreshWith(bob.token)
      expect(response.statusCode).toBe(200)
      expect(response.json().record.id).toBe(bob.record.id)
      expect(claimsOf(response.json().token).sid).toBe(claimsOf(bob.token).sid)
    })

    test('a superuser token at a users collection: 403, at its own: 200', async () => {
      const wrong = await refreshWith(t.token)
      expect(wrong.statusCode).toBe(403)
      expect(wrong.headers['content-type']).toContain('application/problem+json')
      const own = await refreshWith(t.token, '', '_superusers')
      expect(own.statusCode).toBe(200)
      expect(own.json().record.collectionName).toBe('_superusers')
    })

    test('a user token at another collection: 403', async () => {
      const response = await refreshWith(ann.token, '', '_superusers')
      expect(response.statusCode).toBe(403)
    })

    test('an impersonation token: 403, it ends with its own token', async () => {
      const impersonated = await t.request({
        method: 'POST',
        url: `${USERS}/impersonate/${ann.record.id}`,
        payload: { duration: 120 },
      })
      expect(impersonated.statusCode, impersonated.body).toBe(200)
      const response = await refreshWith(impersonated.json().token)
      expect(response.statusCode).toBe(403)
      expect(response.json().detail).toContain('impersonation')
    })

    test('an API key: 403', async () => {
      const key = await t.request({
        method: 'POST',
        url: '/api/auth/api-keys',
        auth: ann.token,
        payload: { name: 'script', scopes: [{ collection: 'users', operations: ['view'] }] },
      })
      expect(key.statusCode, key.body).toBe(201)
      expect((await refreshWith(key.json().key)).statusCode).toBe(403)
    })
  })

  test.each([
    ['malformed JSON', '{"refreshToken": '],
    ['an array', '[]'],
    ['a string', '"token"'],
    ['an unknown field', '{"token": "x"}'],
    ['a prototype key', '{"__proto__": {"admin": true}}'],
    ['constructor', '{"constructor": {"prototype": {}}}'],
    ['a refresh token of the wrong type', '{"refreshToken": 42}'],
    ['a null refresh token', '{"refreshToken": null}'],
    ['an injection string', `{"refreshToken": "' OR 1=1 --"}`],
    ['a huge refresh token', JSON.stringify({ refreshToken: 'x'.repeat(100_000) })],
  ])('%s beside a valid access token is refused, and the session is untouched', async (_name, body) => {
    const response = await refreshWith(ann.token, body)
    expect([400, 401]).toContain(response.statusCode)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).not.toHaveProperty('token')
    expect((await rotate(ann.refreshToken)).statusCode).toBe(200)
  })

  test('an unknown collection answers 404', async () => {
    expect((await refreshWith(ann.token, '', 'nope')).statusCode).toBe(404)
  })
})
