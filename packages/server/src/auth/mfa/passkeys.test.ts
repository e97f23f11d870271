import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { defaultRateLimits } from '../../config/index.js'
import { passwordSignIn as signInWithPassword, signUp as signUpAccount } from '../../test-support/accounts.js'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { type CeremonyOverrides, SoftwareAuthenticator } from '../../test-support/software-authenticator.js'

const users = '/api/collections/users'
const PUBLIC_URL = 'https://app.example.com'

describe.each(testDialects)('passkeys on %s', (kind) => {
  let t: TestApp
  let device: SoftwareAuthenticator
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, {
      publicUrl: PUBLIC_URL,
      rateLimits: { ...defaultRateLimits, enabled: false },
    })
    device = new SoftwareAuthenticator('app.example.com', PUBLIC_URL)
    for (const name of ['users', 'members']) {
      const created = await t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { name, type: 'auth', createRule: '' },
      })
      expect(created.statusCode, created.body).toBe(201)
    }
  })
  afterEach(async () => t?.close())

  const signUp = (email: string, collection = 'users') => signUpAccount(t, email, { collection })
  const passwordSignIn = (email: string, collection = 'users') => signInWithPassword(t, email, { collection })

  const post = (url: string, payload: unknown, auth: string | null = null) =>
    t.request({ method: 'POST', url, auth, payload: payload as object })

  /** Signs up, signs in and registers a passkey on `authenticator`. */
  async function withPasskey(email = 'ann@example.com', authenticator = device) {
    const id = await signUp(email)
    const token = (await passwordSignIn(email)).json().token as string
    const options = await post(`${users}/passkeys/register/options`, undefined, token)
    expect(options.statusCode, options.body).toBe(200)
    const verify = await post(
      `${users}/passkeys/register/verify`,
      { response: authenticator.create(options.json()), name: 'Laptop' },
      token,
    )
    expect(verify.statusCode, verify.body).toBe(201)
    return { id, token, passkey: verify.json() }
  }

  async function passwordlessOptions() {
    const response = await post(`${users}/passkeys/auth/options`, undefined)
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  async function signInWithPasskey(overrides: CeremonyOverrides = {}) {
    const assertion = device.get(await passwordlessOptions(), overrides)
    return post(`${users}/auth-with-passkey`, { response: assertion })
  }

  const auditCount = async (event: string) =>
    (await t.request({ method: 'GET', url: `/api/audit?event=${event}` })).json().totalItems

  test('registration stores the credential for the signed-in record', async () => {
    const id = await signUp('ann@example.com')
    const token = (await passwordSignIn('ann@example.com')).json().token
    const options = (await post(`${users}/passkeys/register/options`, undefined, token)).json()
    expect(options.rp).toEqual({ id: 'app.example.com', name: 'app.example.com' })
    expect(Buffer.from(options.user.id, 'base64url').toString()).toBe(id)
    expect(options.user.name).toBe('ann@example.com')
    expect(options.authenticatorSelection.residentKey).toBe('required')
    const verify = await post(
      `${users}/passkeys/register/verify`,
      { response: device.create(options) },
      token,
    )
    expect(verify.statusCode, verify.body).toBe(201)
    expect(verify.json()).toMatchObject({ name: 'Passkey', transports: ['internal'], lastUsed: null })
    const list = await t.request({ method: 'GET', url: `${users}/passkeys`, auth: token })
    expect(list.json().items.map((p: { id: string }) => p.id)).toEqual([verify.json().id])
    expect(await auditCount('passkey_added')).toBe(1)
    // The next options exclude the passkey already held.
    const next = (await post(`${users}/passkeys/register/options`, {}, token)).json()
    expect(next.excludeCredentials.map((c: { id: string }) => c.id)).toEqual([verify.json().id])
  })

  test('a registration challenge is spent by its first use', async () => {
    await signUp('ann@example.com')
    const token = (await passwordSignIn('ann@example.com')).json().token
    const options = (await post(`${users}/passkeys/register/options`, undefined, token)).json()
    expect(
      (await post(`${users}/passkeys/register/verify`, { response: device.create(options) }, token))
        .statusCode,
    ).toBe(201)
    const replay = await post(
      `${users}/passkeys/register/verify`,
      { response: device.create(options) },
      token,
    )
    expect(replay.statusCode).toBe(400)
    expect(replay.json().type).toBe('urn:plinth:error:invalid_credentials')
    const list = await t.request({ method: 'GET', url: `${users}/passkeys`, auth: token })
    expect(list.json().totalItems).toBe(1)
  })

  test('registration from another origin is refused and stores nothing', async () => {
    await signUp('ann@example.com')
    const token = (await passwordSignIn('ann@example.com')).json().token
    const options = (await post(`${users}/passkeys/register/options`, undefined, token)).json()
    const response = await post(
      `${users}/passkeys/register/verify`,
      { response: device.create(options, { origin: 'https://evil.example.net' }) },
      token,
    )
    expect(response.statusCode).toBe(400)
    expect(
      (await t.request({ method: 'GET', url: `${users}/passkeys`, auth: token })).json().totalItems,
    ).toBe(0)
  })

  test("one record's registration challenge does not register for another", async () => {
    await signUp('ann@example.com')
    await signUp('bob@example.com')
    const ann = (await passwordSignIn('ann@example.com')).json().token
    const bob = (await passwordSignIn('bob@example.com')).json().token
    const options = (await post(`${users}/passkeys/register/options`, undefined, ann)).json()
    const response = await post(
      `${users}/passkeys/register/verify`,
      { response: device.create(options) },
      bob,
    )
    expect(response.statusCode).toBe(400)
  })

  test('a passkey signs in without a password and without an MFA step', async () => {
    const { id } = await withPasskey()
    const response = await signInWithPasskey()
    expect(response.statusCode, response.body).toBe(200)
    const body = response.json()
    expect(body.record.id).toBe(id)
    expect(body.token).toBeTypeOf('string')
    const sessions = await t.request({ method: 'GET', url: '/api/auth/sessions', auth: body.token })
    expect(sessions.statusCode).toBe(200)
    const list = await t.request({ method: 'GET', url: `${users}/passkeys`, auth: body.token })
    expect(list.json().items[0].lastUsed).toBeTypeOf('string')
  })

  test('passwordless sign-in needs user verification', async () => {
    await withPasskey()
    const response = await signInWithPasskey({ withoutUserVerification: true })
    expect(response.statusCode).toBe(400)
    expect(await auditCount('sign_in_failed')).toBe(1)
  })

  test('with a passkey, the password is no longer enough: the passkey is the second factor', async () => {
    const { id } = await withPasskey()
    const first = await passwordSignIn('ann@example.com')
    const { mfaId } = first.json()
    expect(mfaId).toBeTypeOf('string')
    expect(first.json()).not.toHaveProperty('token')
    const options = await post(`${users}/passkeys/auth/options`, { mfaId })
    expect(options.statusCode, options.body).toBe(200)
    expect(options.json().allowCredentials.map((c: { id: string }) => c.id)).toHaveLength(1)
    // Possession is enough for a second factor, user verification or not.
    const assertion = device.get(options.json(), { withoutUserVerification: true })
    const passed = await post(`${users}/auth-with-mfa`, { mfaId, passkey: assertion })
    expect(passed.statusCode, passed.body).toBe(200)
    expect(passed.json().record.id).toBe(id)
    // The challenge and the mfaId are both spent.
    const again = await post(`${users}/auth-with-mfa`, { mfaId, passkey: assertion })
    expect(again.statusCode).toBe(401)
  })

  test("another record's passkey does not pass someone's MFA step", async () => {
    await withPasskey('ann@example.com')
    const other = new SoftwareAuthenticator('app.example.com', PUBLIC_URL)
    await withPasskey('bob@example.com', other)
    const { mfaId } = (await passwordSignIn('ann@example.com')).json()
    const options = (await post(`${users}/passkeys/auth/options`, { mfaId })).json()
    const response = await post(`${users}/auth-with-mfa`, { mfaId, passkey: other.get(options) })
    expect(response.statusCode).toBe(400)
    expect(await auditCount('mfa_failed')).toBe(1)
  })

  test('a tampered signature is refused', async () => {
    await withPasskey()
    const response = await signInWithPasskey({ tamperSignature: true })
    expect(response.statusCode).toBe(400)
    expect(response.json()).not.toHaveProperty('token')
  })

  test('an assertion made for another origin is refused', async () => {
    await withPasskey()
    expect((await signInWithPasskey({ origin: 'https://app.example.com.evil.net' })).statusCode).toBe(400)
    expect((await signInWithPasskey({ origin: 'http://app.example.com' })).statusCode).toBe(400)
  })

  test('a replayed assertion or challenge is refused', async () => {
    await withPasskey()
    const options = await passwordlessOptions()
    const assertion = device.get(options)
    expect((await post(`${users}/auth-with-passkey`, { response: assertion })).statusCode).toBe(200)
    expect((await post(`${users}/auth-with-passkey`, { response: assertion })).statusCode).toBe(400)
    const fresh = device.get(options)
    expect((await post(`${users}/auth-with-passkey`, { response: fresh })).statusCode).toBe(400)
  })

  test('a counter that does not grow means a cloned authenticator', async () => {
    await withPasskey()
    expect((await signInWithPasskey({ counter: 5 })).statusCode).toBe(200)
    expect((await signInWithPasskey({ counter: 3 })).statusCode).toBe(400)
    expect((await signInWithPasskey({ counter: 5 })).statusCode).toBe(400)
    expect((await signInWithPasskey({ counter: 6 })).statusCode).toBe(200)
  })

  test('a passkey signs in only to its own collection', async () => {
    await withPasskey()
    const options = (await post('/api/collections/members/passkeys/auth/options', undefined)).json()
    const response = await post('/api/collections/members/auth-with-passkey', {
      response: device.get(options),
    })
    expect(response.statusCode).toBe(400)
  })

  test('a record removes its own passkeys, not anyone else’s', async () => {
    const ann = await withPasskey('ann@example.com')
    const other = new SoftwareAuthenticator('app.example.com', PUBLIC_URL)
    const bob = await withPasskey('bob@example.com', other)
    const remove = (id: string, token: string) =>
      t.request({ method: 'DELETE', url: `${users}/passkeys/${encodeURIComponent(id)}`, auth: token })
    expect((await remove(bob.passkey.id, ann.token)).statusCode).toBe(404)
    expect((await remove("' OR 1=1 --", ann.token)).statusCode).toBe(404)
    expect((await remove(ann.passkey.id, ann.token)).statusCode).toBe(204)
    expect(await auditCount('passkey_removed')).toBe(1)
    expect(
      (await t.request({ method: 'GET', url: `${users}/passkeys`, auth: bob.token })).json().totalItems,
    ).toBe(1)
    // Ann signs in with her password alone again.
    expect((await passwordSignIn('ann@example.com')).json()).toHaveProperty('token')
  })

  test('managing passkeys needs the signed-in record of the collection', async () => {
    await signUp('ann@example.com')
    await signUp('max@example.com', 'members')
    const member = (await passwordSignIn('max@example.com', 'members')).json().token
    for (const route of [
      { method: 'GET', url: `${users}/passkeys` },
      { method: 'POST', url: `${users}/passkeys/register/options` },
      { method: 'DELETE', url: `${users}/passkeys/abc` },
    ] as const) {
      expect((await t.request({ ...route, auth: null })).statusCode, route.url).toBe(401)
      expect((await t.request({ ...route, auth: member })).statusCode, route.url).toBe(403)
    }
  })

  describe('bad input', () => {
    const validRegistration = () => ({
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'AAAA', attestationObject: 'AAAA' },
      clientExtensionResults: {},
    })
    const registrationCases = [
      { name: 'malformed JSON', body: '{"response": {' },
      { name: 'no response', payload: {} },
      { name: 'an unknown field', payload: { response: validRegistration(), admin: true } },
      { name: 'a response of the wrong type', payload: { response: 'x' } },
      {
        name: 'a credential type other than public-key',
        payload: { response: { ...validRegistration(), type: 'x' } },
      },
      { name: 'a name too long', payload: { response: validRegistration(), name: 'x'.repeat(101) } },
      { name: 'a name of the wrong type', payload: { response: validRegistration(), name: 5 } },
      { name: 'a non-base64url id', payload: { response: { ...validRegistration(), id: "' OR 1=1 --" } } },
      { name: 'garbage that parses', payload: { response: validRegistration() } },
    ]
    test.for(registrationCases)('register/verify refuses $name and stores nothing', async (scenario) => {
      await signUp('ann@example.com')
      const token = (await passwordSignIn('ann@example.com')).json().token
      await post(`${users}/passkeys/register/options`, undefined, token)
      const response = await t.request({
        method: 'POST',
        url: `${users}/passkeys/register/verify`,
        auth: token,
        headers: { 'content-type': 'application/json' },
        payload: 'body' in scenario ? scenario.body : JSON.stringify(scenario.payload),
      })
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(await t.app.plinth.dialect.db.selectFrom('_passkeys').selectAll().execute()).toHaveLength(0)
    })

    const signInCases = [
      { name: 'malformed JSON', body: '{' },
      { name: 'no response', payload: {} },
      { name: 'an unknown field', payload: { response: 'ASSERTION', remember: true } },
      { name: 'a missing signature', payload: { response: 'NO_SIGNATURE' } },
      { name: 'an unknown credential id', payload: { response: 'UNKNOWN_ID' } },
      { name: 'a wrong user handle', payload: { response: 'WRONG_HANDLE' } },
    ]
    test.for(signInCases)('auth-with-passkey refuses $name', async (scenario) => {
      await withPasskey()
      const assertion = device.get(await passwordlessOptions())
      const variants: Record<string, unknown> = {
        ASSERTION: assertion,
        NO_SIGNATURE: { ...assertion, response: { ...assertion.response, signature: undefined } },
        UNKNOWN_ID: { ...assertion, id: 'AAAAAAAAAAAA', rawId: 'AAAAAAAAAAAA' },
        WRONG_HANDLE: { ...assertion, response: { ...assertion.response, userHandle: 'AAAA' } },
      }
      const payload =
        'body' in scenario
          ? scenario.body
          : JSON.stringify({ ...scenario.payload, response: variants[scenario.payload.response as string] })
      const response = await t.request({
        method: 'POST',
        url: `${users}/auth-with-passkey`,
        auth: null,
        headers: { 'content-type': 'application/json' },
        payload,
      })
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json()).not.toHaveProperty('token')
    })

    test.for([
      { name: 'an unknown field', payload: { mfaId: 'abc', extra: 1 }, status: 400 },
      { name: 'mfaId of the wrong type', payload: { mfaId: 7 }, status: 400 },
      { name: 'an injection as mfaId', payload: { mfaId: "' OR 1=1 --" }, status: 400 },
      { name: 'an unknown mfaId', payload: { mfaId: 'AAAAAAAAAAAAAAAAAAAA' }, status: 401 },
    ])('passkeys/auth/options refuses $name', async ({ payload, status }) => {
      const response = await post(`${users}/passkeys/auth/options`, payload)
      expect(response.statusCode).toBe(status)
      expect(response.headers['content-type']).toContain('application/problem+json')
    })

    test('options for a collection that is not an auth collection are 404', async () => {
      await t.request({ method: 'POST', url: '/api/collections', payload: { name: 'notes' } })
      expect((await post('/api/collections/notes/passkeys/auth/options', {})).statusCode).toBe(404)
      expect((await post('/api/collections/nothing/passkeys/auth/options', {})).statusCode).toBe(404)
    })
  })
})
