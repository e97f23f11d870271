import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const users = '/api/collections/users'
const PASSWORD = 'user password 1'

describe.each(testDialects)('sessions and refresh tokens on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'users', type: 'auth', createRule: '' },
    })
    const signUp = await t.request({
      method: 'POST',
      url: `${users}/records`,
      auth: null,
      payload: { email: 'ann@example.com', password: PASSWORD, passwordConfirm: PASSWORD },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
  })
  afterEach(async () => t?.close())

  const signIn = async () => {
    const response = await t.request({
      method: 'POST',
      url: `${users}/auth-with-password`,
      auth: null,
      payload: { identity: 'ann@example.com', password: PASSWORD },
    })
    expect(response.statusCode, response.body).toBe(200)
    return response.json() as { token: string; refreshToken: string; record: Record<string, unknown> }
  }
  const refresh = (refreshToken: unknown) =>
    t.request({ method: 'POST', url: `${users}/auth-refresh`, auth: null, payload: { refreshToken } })
  const sessions = (token: string) => t.request({ method: 'GET', url: '/api/auth/sessions', auth: token })

  test('sign-in answers a token, a refresh token and the record', async () => {
    const first = await signIn()
    expect(first.refreshToken).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/)
    expect(first.record).toMatchObject({ email: 'ann@example.com', collectionName: 'users' })
  })

  test('refresh spends the old token and answers a new triple', async () => {
    const first = await signIn()
    const second = await refresh(first.refreshToken)
    expect(second.statusCode, second.body).toBe(200)
    const next = second.json()
    expect(next.refreshToken).not.toBe(first.refreshToken)
    expect(next.record.id).toBe(first.record.id)
    expect((await sessions(next.token)).statusCode).toBe(200)
  })

  test('reusing a spent refresh token ends the whole session', async () => {
    const first = await signIn()
    const rotated = (await refresh(first.refreshToken)).json()
    const replay = await refresh(first.refreshToken)
    expect(replay.statusCode).toBe(401)
    expect(replay.json().type).toBe('urn:plinth:error:invalid_token')
    // The thief's replay also locks out the rightful holder of the newer token.
    expect((await refresh(rotated.refreshToken)).statusCode).toBe(401)
    const audit = await t.request({ method: 'GET', url: '/api/audit?event=refresh_reuse' })
    expect(audit.json().totalItems).toBe(1)
  })

  test('one refresh token sent several times at once rotates once; the rest count as reuse', async () => {
    const first = await signIn()
    const answers = await Promise.all(Array.from({ length: 6 }, () => refresh(first.refreshToken)))
    const statuses = answers.map((answer) => answer.statusCode)
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(1)
    expect(statuses.filter((status) => status !== 200 && status !== 401)).toEqual([])
    // Whoever won, the session is over: the other uses were a reuse of a spent token.
    for (const answer of answers.filter((a) => a.statusCode === 200))
      expect((await refresh(answer.json().refreshToken)).statusCode).toBe(401)
  })

  test.each([
    ['garbage', 'not-a-token'],
    ['unknown', '01890a5d-ac96-774b-bcce-b302099a8057.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['empty', ''],
    ['a number', 42],
  ])('a %s refresh token is refused', async (_name, token) => {
    const response = await refresh(token)
    expect([400, 401]).toContain(response.statusCode)
    expect(response.headers['content-type']).toContain('application/problem+json')
  })

  test('a refresh token of one collection does not refresh in another', async () => {
    const first = await signIn()
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/_superusers/auth-refresh',
      auth: null,
      payload: { refreshToken: first.refreshToken },
    })
    expect(response.statusCode).toBe(401)
  })

  test('sessions are listed and revoked by their owner only', async () => {
    const a = await signIn()
    const b = await signIn()
    const listed = (await sessions(a.token)).json()
    expect(listed.items).toHaveLength(2)
    expect(listed.items.filter((s: any) => s.current)).toHaveLength(1)
    const other = listed.items.find((s: any) => !s.current)
    // A superuser's own session list does not contain Ann's sessions, and cannot revoke them.
    expect((await t.request({ method: 'DELETE', url: `/api/auth/sessions/${other.id}` })).statusCode).toBe(
      404,
    )
    expect(
      (await t.request({ method: 'DELETE', url: `/api/auth/sessions/${other.id}`, auth: a.token }))
        .statusCode,
    ).toBe(204)
    expect((await refresh(b.refreshToken)).statusCode).toBe(401)
    expect((await t.request({ method: 'GET', url: '/api/auth/sessions', auth: null })).statusCode).toBe(401)
  })

  test('logout ends the current session', async () => {
    const a = await signIn()
    const logout = await t.request({ method: 'POST', url: `${users}/auth-logout`, auth: a.token })
    expect(logout.statusCode).toBe(204)
    expect((await refresh(a.refreshToken)).statusCode).toBe(401)
    expect((await t.request({ method: 'POST', url: `${users}/auth-logout`, auth: null })).statusCode).toBe(
      401,
    )
  })

  test('a new password ends every session of the record', async () => {
    const a = await signIn()
    const response = await t.request({
      method: 'PATCH',
      url: `${users}/records/${a.record.id}`,
      payload: { password: 'another password 2', passwordConfirm: 'another password 2' },
    })
    expect(response.statusCode, response.body).toBe(200)
    expect((await refresh(a.refreshToken)).statusCode).toBe(401)
    const audit = await t.request({ method: 'GET', url: '/api/audit?event=password_changed' })
    expect(audit.json().items[0].recordId).toBe(a.record.id)
  })

  test('JWKS lists the public keys; after a rotation old tokens still verify and new ones use the new key', async () => {
    const before = (await t.request({ method: 'GET', url: '/api/.well-known/jwks.json', auth: null })).json()
    expect(before.keys).toHaveLength(1)
    expect(before.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' })
    expect(before.keys[0]).not.toHaveProperty('d')
    const old = await signIn()
    const newKid = await t.app.plinth.auth.keys.rotate()
    const after = (await t.request({ method: 'GET', url: '/api/.well-known/jwks.json', auth: null })).json()
    expect(after.keys.map((k: any) => k.kid)).toContain(newKid)
    expect(after.keys).toHaveLength(2)
    expect((await sessions(old.token)).statusCode).toBe(200)
    const fresh = await signIn()
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0]!, 'base64url').toString()).kid).toBe(newKid)
  })

  test('ten failed sign-ins lock the identity out with 429, known or not', async () => {
    for (const identity of ['ann@example.com', 'nobody@example.com']) {
      for (let i = 0; i < 10; i++) {
        const failed = await t.request({
          method: 'POST',
          url: `${users}/auth-with-password`,
          auth: null,
          payload: { identity, password: 'wrong' },
        })
        expect(failed.statusCode).toBe(400)
      }
      const locked = await t.request({
        method: 'POST',
        url: `${users}/auth-with-password`,
        auth: null,
        payload: { identity, password: PASSWORD },
      })
      expect(locked.statusCode).toBe(429)
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0)
    }
    const superuser = await t.request({
      method: 'POST',
      url: '/api/collections/_superusers/auth-with-password',
      auth: null,
      payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
    })
    expect(superuser.statusCode).toBe(200)
  })

  test('the audit log is for superusers only', async () => {
    const a = await signIn()
    expect((await t.request({ method: 'GET', url: '/api/audit', auth: a.token })).statusCode).toBe(403)
    expect((await t.request({ method: 'GET', url: '/api/audit', auth: null })).statusCode).toBe(401)
    const log = (await t.request({ method: 'GET', url: '/api/audit?event=sign_in' })).json()
    expect(log.items.some((e: any) => e.recordId === a.record.id && e.detail.method === 'password')).toBe(
      true,
    )
    expect(log.events).toEqual(expect.arrayContaining(['sign_in', 'impersonation', 'api_key_created']))
    expect(log.items.every((e: any) => log.events.includes(e.event))).toBe(true)
    expect((await t.request({ method: 'GET', url: '/api/audit?perPage=0' })).statusCode).toBe(400)
  })
})

describe.each(testDialects)('impersonation on %s', (kind) => {
  let t: TestApp
  let ann: Record<string, any>
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'users', type: 'auth', createRule: '' },
    })
    ann = (
      await t.request({
        method: 'POST',
        url: `${users}/records`,
        auth: null,
        payload: { email: 'ann@example.com', password: PASSWORD, passwordConfirm: PASSWORD },
      })
    ).json()
  })
  afterEach(async () => t?.close())
  const impersonate = (id: string, payload?: object, auth?: string | null) =>
    t.request({ method: 'POST', url: `${users}/impersonate/${id}`, ...(payload ? { payload } : {}), auth })

  test('a superuser gets a short, non-refreshable token of the user, and the audit log says so', async () => {
    const response = await impersonate(ann.id, { duration: 120 })
    expect(response.statusCode, response.body).toBe(200)
    const { token, record, refreshToken } = response.json()
    expect(refreshToken).toBeUndefined()
    expect(record.id).toBe(ann.id)
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString())
    expect(claims.exp - claims.iat).toBe(120)
    const own = await t.request({ method: 'GET', url: '/api/auth/sessions', auth: token })
    expect(own.json().items[0].impersonated).toBe(true)
    const audit = (await t.request({ method: 'GET', url: '/api/audit?event=impersonation' })).json()
    expect(audit.items[0]).toMatchObject({ recordId: ann.id, actor: expect.any(String) })
  })

  test('only superusers impersonate, only existing records, within the limits', async () => {
    const annToken = (
      await t.request({
        method: 'POST',
        url: `${users}/auth-with-password`,
        auth: null,
        payload: { identity: 'ann@example.com', password: PASSWORD },
      })
    ).json().token
    expect((await impersonate(ann.id, undefined, null)).statusCode).toBe(401)
    expect((await impersonate(ann.id, undefined, annToken)).statusCode).toBe(403)
    expect((await impersonate('01890a5d-ac96-774b-bcce-b302099a8057')).statusCode).toBe(404)
    expect((await impersonate(ann.id, { duration: 7200 })).statusCode).toBe(400)
    expect((await impersonate(ann.id, { duration: 'long' })).statusCode).toBe(400)
    expect((await impersonate(ann.id, { nope: 1 })).statusCode).toBe(400)
    expect(
      (await t.request({ method: 'POST', url: `/api/collections/nope/impersonate/${ann.id}` })).statusCode,
    ).toBe(404)
  })
})

describe.each(testDialects)('identity fields on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    const created = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: {
        name: 'members',
        type: 'auth',
        createRule: '',
        fields: [{ name: 'username', type: 'text', required: true, pattern: '^[a-zA-Z0-9_]{3,30}$' }],
        indexes: [{ fields: ['username'], unique: true }],
        options: { identityFields: ['email', 'username'] },
      },
    })
    expect(created.statusCode, created.body).toBe(201)
    await t.request({
      method: 'POST',
      url: '/api/collections/members/records',
      auth: null,
      payload: { email: 'bo@example.com', username: 'Bo_42', password: PASSWORD, passwordConfirm: PASSWORD },
    })
  })
  afterEach(async () => t?.close())

  test.each([['bo@example.com'], ['BO@EXAMPLE.COM'], ['Bo_42']])('%s signs in', async (identity) => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      auth: null,
      payload: { identity, password: PASSWORD },
    })
    expect(response.statusCode, response.body).toBe(200)
  })

  test('a username never matches another field', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/members/auth-with-password',
      auth: null,
      payload: { identity: 'bo_42', password: PASSWORD },
    })
    expect(response.statusCode).toBe(400)
  })
})
