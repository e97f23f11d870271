import type { InjectOptions } from 'fastify'
import { NobleCryptoPlugin, ScureBase32Plugin, TOTP } from 'otplib'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest'
import { defaultRateLimits } from '../config/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { SoftwareAuthenticator } from '../test-support/software-authenticator.js'

const users = '/api/collections/users'
const PASSWORD = 'user password 1'
const NEW_PASSWORD = 'another password 2'
const PUBLIC_URL = 'https://app.example.com'
const START = Date.parse('2031-03-01T09:00:00.000Z')
const MINUTE = 60_000
const authenticator = new TOTP({ crypto: new NobleCryptoPlugin(), base32: new ScureBase32Plugin() })
const totpCode = (secret: string) => authenticator.generate({ secret, epoch: Math.floor(Date.now() / 1000) })
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString())
const advance = (ms: number) => vi.setSystemTime(Date.now() + ms)

interface User {
  id: string
  email: string
}

type Request = Pick<InjectOptions, 'method' | 'url' | 'payload'>

/** A change that needs a recent sign-in: how to ask for it, and what it leaves in the database. */
interface SensitiveRoute {
  name: string
  success: number
  /** Sets up what the change needs with a fresh session, and answers the request to send. */
  prepare(user: User, freshToken: string): Promise<() => Promise<Request>>
  state(user: User): Promise<unknown>
}

/** How the token that asks for the change came to be. */
interface Scenario {
  name: string
  /** The answer expected: the route's success, or a refusal's status and code. */
  refusal: string | null
  token(user: User): Promise<string>
}

describe.each(testDialects)('recent sign-in for account changes on %s', (kind) => {
  let t: TestApp
  let device: SoftwareAuthenticator
  let userCount = 0

  beforeAll(async () => {
    if (shouldSkip(kind)) return
    vi.useFakeTimers({ toFake: ['Date'], now: START })
    t = await createTestApp(kind, {
      publicUrl: PUBLIC_URL,
      rateLimits: { ...defaultRateLimits, enabled: false },
    })
    const created = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'users', type: 'auth', createRule: '', updateRule: 'id = @request.auth.id' },
    })
    expect(created.statusCode, created.body).toBe(201)
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    // Every test starts at the time the superuser signed in, so its token stays valid.
    vi.setSystemTime(START)
    device = new SoftwareAuthenticator('app.example.com', PUBLIC_URL)
  })
  afterAll(async () => {
    vi.useRealTimers()
    await t?.close()
  })

  const db = () => t.app.plinth.dialect.db
  const post = (url: string, payload: unknown, auth: string | null) =>
    t.request({ method: 'POST', url, auth, payload: payload as object })

  async function newUser(): Promise<User> {
    const email = `user${++userCount}@example.com`
    const response = await post(
      `${users}/records`,
      { email, password: PASSWORD, passwordConfirm: PASSWORD },
      null,
    )
    expect(response.statusCode, response.body).toBe(201)
    return { id: response.json().id, email }
  }

  async function signIn(user: User): Promise<{ token: string; refreshToken: string }> {
    const response = await post(
      `${users}/auth-with-password`,
      { identity: user.email, password: PASSWORD },
      null,
    )
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  async function enrolTotp(token: string) {
    const setup = await post(`${users}/mfa/totp/setup`, undefined, token)
    expect(setup.statusCode, setup.body).toBe(200)
    const secret = setup.json().secret as string
    const confirm = await post(`${users}/mfa/totp/confirm`, { code: await totpCode(secret) }, token)
    expect(confirm.statusCode, confirm.body).toBe(200)
    return { secret, recoveryCodes: confirm.json().recoveryCodes as string[] }
  }

  async function registerPasskey(token: string): Promise<string> {
    const options = await post(`${users}/passkeys/register/options`, undefined, token)
    expect(options.statusCode, options.body).toBe(200)
    const verify = await post(
      `${users}/passkeys/register/verify`,
      { response: device.create(options.json()), name: 'Laptop' },
      token,
    )
    expect(verify.statusCode, verify.body).toBe(201)
    return verify.json().id
  }

  const rowsOf = (table: string, user: User, columns: string[]) =>
    db().selectFrom(table).select(columns).where('record_id', '=', user.id).orderBy(columns[0]!).execute()

  const routes: SensitiveRoute[] = [
    {
      name: 'POST mfa/totp/setup',
      success: 200,
      async prepare() {
        return async () => ({ method: 'POST', url: `${users}/mfa/totp/setup` })
      },
      state: (user) => rowsOf('_mfa_totp', user, ['secret_sealed', 'enabled']),
    },
    {
      name: 'POST mfa/totp/confirm',
      success: 200,
      async prepare(_user, fresh) {
        const setup = await post(`${users}/mfa/totp/setup`, undefined, fresh)
        const { secret } = setup.json()
        return async () => ({
          method: 'POST',
          url: `${users}/mfa/totp/confirm`,
          payload: { code: await totpCode(secret) },
        })
      },
      state: (user) => rowsOf('_mfa_totp', user, ['secret_sealed', 'enabled']),
    },
    {
      name: 'DELETE mfa/totp',
      success: 204,
      async prepare(_user, fresh) {
        const { recoveryCodes } = await enrolTotp(fresh)
        return async () => ({
          method: 'DELETE',
          url: `${users}/mfa/totp`,
          payload: { recoveryCode: recoveryCodes[0] },
        })
      },
      state: (user) => rowsOf('_mfa_totp', user, ['secret_sealed', 'enabled']),
    },
    {
      name: 'POST mfa/recovery-codes',
      success: 200,
      async prepare(_user, fresh) {
        const { recoveryCodes } = await enrolTotp(fresh)
        return async () => ({
          method: 'POST',
          url: `${users}/mfa/recovery-codes`,
          payload: { recoveryCode: recoveryCodes[0] },
        })
      },
      state: (user) => rowsOf('_mfa_recovery_codes', user, ['hash', 'used']),
    },
    {
      name: 'POST passkeys/register/options',
      success: 200,
      async prepare() {
        return async () => ({ method: 'POST', url: `${users}/passkeys/register/options` })
      },
      state: (user) => rowsOf('_webauthn_challenges', user, ['challenge']),
    },
    {
      name: 'POST passkeys/register/verify',
      success: 201,
      async prepare(_user, fresh) {
        const options = await post(`${users}/passkeys/register/options`, undefined, fresh)
        const response = device.create(options.json())
        return async () => ({
          method: 'POST',
          url: `${users}/passkeys/register/verify`,
          payload: { response, name: 'Stolen' },
        })
      },
      state: (user) => rowsOf('_passkeys', user, ['id', 'name']),
    },
    {
      name: 'DELETE passkeys/{id}',
      success: 204,
      async prepare(_user, fresh) {
        const id = await registerPasskey(fresh)
        return async () => ({ method: 'DELETE', url: `${users}/passkeys/${id}` })
      },
      state: (user) => rowsOf('_passkeys', user, ['id', 'name']),
    },
    {
      name: 'POST /api/auth/api-keys',
      success: 201,
      async prepare() {
        return async () => ({
          method: 'POST',
          url: '/api/auth/api-keys',
          payload: { name: 'script', scopes: [{ collection: 'users', operations: ['view'] }] },
        })
      },
      state: (user) => rowsOf('_api_keys', user, ['id', 'revoked']),
    },
  ]

  routes.push({
    name: 'PATCH records/{id} with a new password',
    success: 200,
    async prepare(user) {
      return async () => ({
        method: 'PATCH',
        url: `${users}/records/${user.id}`,
        payload: { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
      })
    },
    state: (user) => db().selectFrom('users').select('password').where('id', '=', user.id).execute(),
  })

  const scenarios: Scenario[] = [
    {
      name: 'a fresh sign-in',
      refusal: null,
      token: async (user) => (await signIn(user)).token,
    },
    {
      name: 'a sign-in 9 minutes ago',
      refusal: null,
      async token(user) {
        const { token } = await signIn(user)
        advance(9 * MINUTE)
        return token
      },
    },
    {
      name: 'a sign-in 11 minutes ago',
      refusal: 'reauthentication_required',
      async token(user) {
        const { token } = await signIn(user)
        advance(11 * MINUTE)
        return token
      },
    },
    {
      name: 'a token of the same session signed with an old sign-in time',
      refusal: 'reauthentication_required',
      async token(user) {
        const { token } = await signIn(user)
        const collection = t.app.plinth.records.collection('users')
        return t.app.plinth.auth.tokens.sign(collection, user.id, claimsOf(token).sid, {
          authTime: new Date(Date.now() - 60 * MINUTE),
        })
      },
    },
    {
      name: 'a token refreshed after an old sign-in',
      refusal: 'reauthentication_required',
      async token(user) {
        const { refreshToken } = await signIn(user)
        advance(11 * MINUTE)
        const refreshed = await post(`${users}/auth-refresh`, { refreshToken }, null)
        expect(refreshed.statusCode, refreshed.body).toBe(200)
        return refreshed.json().token
      },
    },
    {
      name: 'an impersonation token',
      refusal: 'forbidden',
      async token(user) {
        const response = await post(`${users}/impersonate/${user.id}`, undefined, t.token)
        expect(response.statusCode, response.body).toBe(200)
        return response.json().token
      },
    },
  ]

  const cases = routes.flatMap((route) => scenarios.map((scenario) => ({ route, scenario })))

  test.each(cases)('$route.name with $scenario.name', async ({ route, scenario }) => {
    const user = await newUser()
    const token = await scenario.token(user)
    // What the change needs is set up just now, by a session of its own.
    const request = await route.prepare(user, (await signIn(user)).token)
    const before = await route.state(user)
    const response = await t.request({ ...(await request()), auth: token })
    if (scenario.refusal === null) {
      expect(response.statusCode, response.body).toBe(route.success)
      expect(await route.state(user)).not.toEqual(before)
      return
    }
    expect(response.statusCode, response.body).toBe(403)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().type).toBe(`urn:plinth:error:${scenario.refusal}`)
    expect(await route.state(user)).toEqual(before)
  })

  test('a refresh carries the time of the sign-in forward', async () => {
    const user = await newUser()
    const first = await signIn(user)
    advance(5 * MINUTE)
    const refreshed = (await post(`${users}/auth-refresh`, { refreshToken: first.refreshToken }, null)).json()
    const claims = claimsOf(refreshed.token)
    expect(claims.auth_time).toBe(START / 1000)
    expect(claims.auth_time).toBe(claimsOf(first.token).auth_time)
    expect(claims.iat).toBe(START / 1000 + 300)
    const key = { name: 'k', scopes: [{ collection: 'users', operations: ['view'] }] }
    expect((await post('/api/auth/api-keys', key, refreshed.token)).statusCode).toBe(201)
    // Still well within the refreshed token's own lifetime, but not within the window of the sign-in.
    advance(6 * MINUTE)
    const late = await post('/api/auth/api-keys', key, refreshed.token)
    expect(late.statusCode).toBe(403)
    expect(late.json().type).toBe('urn:plinth:error:reauthentication_required')
  })

  test('an impersonation token carries no sign-in time', async () => {
    const user = await newUser()
    const response = await post(`${users}/impersonate/${user.id}`, undefined, t.token)
    expect(claimsOf(response.json().token)).not.toHaveProperty('auth_time')
  })

  test('completing the MFA step and signing in with a passkey start the window again', async () => {
    const user = await newUser()
    const first = await signIn(user)
    const { secret } = await enrolTotp(first.token)
    await registerPasskey(first.token)
    advance(11 * MINUTE)
    const key = { name: 'k', scopes: [{ collection: 'users', operations: ['view'] }] }
    expect((await post('/api/auth/api-keys', key, first.token)).statusCode).toBe(403)

    const challenge = await post(
      `${users}/auth-with-password`,
      { identity: user.email, password: PASSWORD },
      null,
    )
    const { mfaId } = challenge.json()
    expect(mfaId).toBeTypeOf('string')
    const passed = await post(`${users}/auth-with-mfa`, { mfaId, code: await totpCode(secret) }, null)
    expect(passed.statusCode, passed.body).toBe(200)
    expect(claimsOf(passed.json().token).auth_time).toBe(Math.floor(Date.now() / 1000))
    expect((await post('/api/auth/api-keys', key, passed.json().token)).statusCode).toBe(201)

    advance(11 * MINUTE)
    const options = (await post(`${users}/passkeys/auth/options`, undefined, null)).json()
    const passkey = await post(`${users}/auth-with-passkey`, { response: device.get(options) }, null)
    expect(passkey.statusCode, passkey.body).toBe(200)
    expect((await post('/api/auth/api-keys', key, passkey.json().token)).statusCode).toBe(201)
  })

  test("a superuser's own changes need a recent sign-in too", async () => {
    const key = { name: 'k', scopes: [{ collection: '*', operations: ['list'] }] }
    advance(11 * MINUTE)
    const response = await post('/api/auth/api-keys', key, t.token)
    expect(response.statusCode).toBe(403)
    expect(response.json().type).toBe('urn:plinth:error:reauthentication_required')
    const totp = await post('/api/collections/_superusers/mfa/totp/setup', undefined, t.token)
    expect(totp.json().type).toBe('urn:plinth:error:reauthentication_required')
  })

  test('an API key cannot set a password, even with the update scope', async () => {
    const user = await newUser()
    const { token } = await signIn(user)
    const created = await post(
      '/api/auth/api-keys',
      { name: 'script', scopes: [{ collection: 'users', operations: ['view', 'update'] }] },
      token,
    )
    expect(created.statusCode, created.body).toBe(201)
    const key = created.json().key as string
    const stored = () => db().selectFrom('users').select('password').where('id', '=', user.id).execute()
    const before = await stored()
    const response = await t.request({
      method: 'PATCH',
      url: `${users}/records/${user.id}`,
      auth: key,
      payload: { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
    })
    expect(response.statusCode, response.body).toBe(403)
    expect(response.json().type).toBe('urn:plinth:error:forbidden')
    expect(await stored()).toEqual(before)
    const other = await t.request({
      method: 'PATCH',
      url: `${users}/records/${user.id}`,
      auth: key,
      payload: { emailVisibility: true },
    })
    expect(other.statusCode, other.body).toBe(200)
  })

  test('a superuser sets a password without a recent sign-in of the record', async () => {
    const user = await newUser()
    const response = await t.request({
      method: 'PATCH',
      url: `${users}/records/${user.id}`,
      payload: { password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
    })
    expect(response.statusCode, response.body).toBe(200)
  })
})

describe.each(testDialects)('PLINTH_REAUTH_WINDOW on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    vi.useFakeTimers({ toFake: ['Date'], now: START })
    t = await createTestApp(kind, { reauthWindow: 120 })
  })
  afterEach(async () => {
    vi.useRealTimers()
    await t?.close()
  })

  test('sets how recent the sign-in must be', async () => {
    const key = { name: 'k', scopes: [{ collection: '*', operations: ['list'] }] }
    const create = () => t.request({ method: 'POST', url: '/api/auth/api-keys', payload: key })
    advance(2 * MINUTE)
    expect((await create()).statusCode).toBe(201)
    advance(1000)
    const late = await create()
    expect(late.statusCode).toBe(403)
    expect(late.json().detail).toContain('2 minutes')
    expect(await t.app.plinth.dialect.db.selectFrom('_api_keys').select('id').execute()).toHaveLength(1)
  })
})
