import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { TestApp } from '../../test-support/app.js'
import { createTestApp } from '../../test-support/app.js'
import { createCollection, createRecord } from '../../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { startOidcProvider, type TestOidcProvider } from '../../test-support/oidc-provider.js'

const REDIRECT = 'https://app.example.com/oauth2/callback'
const OTHER_REDIRECT = 'https://app.example.com/other-callback'

const usersDefinition = {
  name: 'users',
  type: 'auth',
  fields: [{ name: 'name', type: 'text', max: 100 }],
  listRule: 'id = @request.auth.id',
  viewRule: 'id = @request.auth.id',
  createRule: '',
  updateRule: 'id = @request.auth.id',
  deleteRule: 'id = @request.auth.id',
}

describe.each(testDialects)('OAuth2 / OpenID Connect on %s', (kind) => {
  let t: TestApp
  let op: TestOidcProvider

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    op = await startOidcProvider(REDIRECT)
    op.accounts.set('alice', { email: 'alice@example.com', email_verified: true, name: 'Alice' })
    op.accounts.set('mallory', { email: 'bob@example.com', email_verified: false, name: 'Not Bob' })
    await createCollection(t, usersDefinition)
    const put = await t.request({
      method: 'PUT',
      url: '/api/collections/users/oauth2-providers',
      payload: {
        enabled: true,
        providers: [
          {
            name: 'oidc',
            displayName: 'Test ID',
            clientId: op.clientId,
            clientSecret: op.clientSecret,
            issuer: op.issuer,
            redirectURLs: [REDIRECT, OTHER_REDIRECT],
          },
        ],
      },
    })
    expect(put.statusCode, put.body).toBe(200)
  })

  afterEach(async () => {
    await op?.close()
    await t?.close()
  })

  async function start(auth: string | null = null, redirectURL = REDIRECT) {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/users/request-oauth2',
      payload: { provider: 'oidc', redirectURL },
      auth,
    })
    expect(response.statusCode, response.body).toBe(200)
    return response.json() as { authURL: string; state: string }
  }

  /** Starts a sign-in and returns what the provider sends back to the app. */
  async function visitProvider(accountId: string, auth: string | null = null) {
    const { authURL, state } = await start(auth)
    const back = await op.authorize(authURL, accountId)
    expect(back.get('state')).toBe(state)
    return { code: back.get('code')!, state, iss: back.get('iss')! }
  }

  function finish(body: Record<string, unknown>, auth: string | null = null) {
    return t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-oauth2',
      payload: { provider: 'oidc', redirectURL: REDIRECT, ...body },
      auth,
    })
  }

  async function signIn(accountId: string, extra: Record<string, unknown> = {}) {
    return finish({ ...(await visitProvider(accountId)), ...extra })
  }

  async function users() {
    return t.app.plinth.dialect.db
      .selectFrom('users')
      .select(['id', 'email', 'verified'])
      .orderBy('email')
      .execute()
  }

  async function links() {
    return t.app.plinth.dialect.db.selectFrom('_external_auths').selectAll().execute()
  }

  test('auth-methods lists the enabled providers', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/collections/users/auth-methods',
      auth: null,
    })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({
      password: { enabled: true, identityFields: ['email'] },
      oauth2: { enabled: true, providers: [{ name: 'oidc', displayName: 'Test ID' }] },
      otp: { enabled: false },
      mfa: { enabled: true, required: false },
      passkey: { enabled: true },
    })
  })

  test('the authorization URL carries PKCE S256, state and nonce, and no secret', async () => {
    const { authURL, state } = await start()
    const url = new URL(authURL)
    expect(url.origin).toBe(op.issuer)
    expect(url.searchParams.get('state')).toBe(state)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT)
    expect(authURL).not.toContain(op.clientSecret)
  })

  test('a first sign-in creates a verified record with createData and returns tokens', async () => {
    const response = await signIn('alice', { createData: { name: 'Alice A.' } })
    expect(response.statusCode, response.body).toBe(200)
    const body = response.json()
    expect(body.token).toBeTypeOf('string')
    expect(body.refreshToken).toBeTypeOf('string')
    expect(body.record).toMatchObject({ email: 'alice@example.com', name: 'Alice A.', verified: true })
    expect(body.meta).toMatchObject({
      provider: 'oidc',
      id: 'alice',
      email: 'alice@example.com',
      isNew: true,
    })
    const me = await t.request({
      method: 'GET',
      url: `/api/collections/users/records/${body.record.id}`,
      auth: body.token,
    })
    expect(me.statusCode).toBe(200)
    expect(await links()).toHaveLength(1)
  })

  test('a second sign-in finds the same record', async () => {
    const first = (await signIn('alice')).json()
    const second = await signIn('alice')
    expect(second.statusCode, second.body).toBe(200)
    expect(second.json().record.id).toBe(first.record.id)
    expect(second.json().meta.isNew).toBe(false)
    expect(await users()).toHaveLength(1)
  })

  test('a verified provider email links to the existing password record and retires its password', async () => {
    const existing = await createRecord(t, 'users', {
      email: 'alice@example.com',
      password: 'pre-registered-pw',
      passwordConfirm: 'pre-registered-pw',
    })
    const response = await signIn('alice')
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json().record).toMatchObject({ id: existing.id, verified: true })
    expect(response.json().meta.isNew).toBe(false)
    // Whoever pre-registered the address may know this password; it no longer works.
    const old = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      payload: { identity: 'alice@example.com', password: 'pre-registered-pw' },
      auth: null,
    })
    expect(old.statusCode).toBe(400)
    expect(await users()).toHaveLength(1)
  })

  test('an unverified provider email does not link to an existing record', async () => {
    await createRecord(t, 'users', {
      email: 'bob@example.com',
      password: 'bobs-password',
      passwordConfirm: 'bobs-password',
    })
    const response = await signIn('mallory')
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:oauth2_account_exists')
    expect(await links()).toHaveLength(0)
    expect(await users()).toHaveLength(1)
  })

  test('an unverified provider email creates an unverified record when none exists', async () => {
    const response = await signIn('mallory')
    expect(response.statusCode, response.body).toBe(200)
    expect(response.json().record).toMatchObject({ email: 'bob@example.com', verified: false })
  })

  test('a tampered state is refused and signs nobody in', async () => {
    const back = await visitProvider('alice')
    const response = await finish({ ...back, state: `${back.state}x` })
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:oauth2_invalid_state')
    expect(await users()).toHaveLength(0)
  })

  test('a replayed code is refused: the state is spent, and the provider rejects the code in a new flow', async () => {
    const back = await visitProvider('alice')
    expect((await finish(back)).statusCode).toBe(200)
    const replay = await finish(back)
    expect(replay.statusCode).toBe(400)
    expect(replay.json().type).toBe('urn:plinth:error:oauth2_invalid_state')
    const { state } = await start()
    const again = await finish({ code: back.code, state })
    expect(again.statusCode).toBe(400)
    expect(again.json().type).toBe('urn:plinth:error:oauth2_failed')
  })

  test('a wrong nonce fails the ID token check', async () => {
    const back = await visitProvider('alice')
    await t.app.plinth.dialect.db.updateTable('_oauth2_states').set({ nonce: 'not-the-nonce-sent' }).execute()
    const response = await finish(back)
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:oauth2_failed')
    expect(await users()).toHaveLength(0)
  })

  test('a redirect URL outside the allow-list is refused (open redirect)', async () => {
    for (const redirectURL of [
      'https://evil.example.com/cb',
      `${REDIRECT}/`,
      `${REDIRECT}?next=x`,
      'javascript:alert(1)',
    ]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/collections/users/request-oauth2',
        payload: { provider: 'oidc', redirectURL },
        auth: null,
      })
      expect(response.statusCode, redirectURL).toBe(400)
      expect(response.json().errors.redirectURL.code).toBe('not_allowed')
    }
    const back = await visitProvider('alice')
    const evil = await finish({ ...back, redirectURL: 'https://evil.example.com/cb' })
    expect(evil.statusCode).toBe(400)
    // Another allowed URL than the one the flow started with is a different flow.
    const other = await finish({ ...back, redirectURL: OTHER_REDIRECT })
    expect(other.statusCode).toBe(400)
    expect(other.json().type).toBe('urn:plinth:error:oauth2_invalid_state')
  })

  test('an unknown or disabled provider is a 400', async () => {
    for (const provider of ['github', 'nope', "oidc' OR 1=1 --"]) {
      const response = await t.request({
        method: 'POST',
        url: '/api/collections/users/request-oauth2',
        payload: { provider, redirectURL: REDIRECT },
        auth: null,
      })
      expect(response.statusCode, provider).toBe(400)
      expect(response.json().errors.provider.code).toBe('unknown_provider')
    }
  })

  test('sign-up through OAuth2 needs a create rule: null answers 403 for a new user', async () => {
    const patch = await t.request({
      method: 'PATCH',
      url: '/api/collections/users',
      payload: { createRule: null },
    })
    expect(patch.statusCode, patch.body).toBe(200)
    const response = await signIn('alice')
    expect(response.statusCode).toBe(403)
    expect(await users()).toHaveLength(0)
    expect(await links()).toHaveLength(0)
  })

  test('createData cannot set provider-owned or unknown fields', async () => {
    for (const createData of [{ verified: false }, { email: 'x@example.com' }, { nope: 1 }]) {
      const response = await signIn('alice', { createData })
      expect(response.statusCode, JSON.stringify(createData)).toBe(400)
    }
    expect(await users()).toHaveLength(0)
  })

  test('a signed-in user links a provider, lists and unlinks it; others cannot', async () => {
    const bob = await createRecord(t, 'users', {
      email: 'bob@example.com',
      password: 'bobs-password',
      passwordConfirm: 'bobs-password',
    })
    const carol = await createRecord(t, 'users', {
      email: 'carol@example.com',
      password: 'carols-password',
      passwordConfirm: 'carols-password',
    })
    const tokenOf = async (email: string, password: string) =>
      (
        await t.request({
          method: 'POST',
          url: '/api/collections/users/auth-with-password',
          payload: { identity: email, password },
          auth: null,
        })
      ).json().token as string
    const bobToken = await tokenOf('bob@example.com', 'bobs-password')
    const carolToken = await tokenOf('carol@example.com', 'carols-password')
    // Bob's provider account is alice@…: linking does not depend on the email.
    const back = await visitProvider('alice', bobToken)
    const linked = await finish(back, bobToken)
    expect(linked.statusCode, linked.body).toBe(200)
    expect(linked.json().externalAuth).toMatchObject({
      provider: 'oidc',
      providerUserId: 'alice',
      recordId: bob.id,
    })
    // The provider account now signs in as Bob.
    const asBob = await signIn('alice')
    expect(asBob.json().record.id).toBe(bob.id)
    // Carol cannot take the same provider account.
    const stolen = await finish(await visitProvider('alice', carolToken), carolToken)
    expect(stolen.statusCode).toBe(400)
    expect(stolen.json().type).toBe('urn:plinth:error:oauth2_already_linked')

    const url = `/api/collections/users/records/${bob.id}/external-auths`
    expect((await t.request({ method: 'GET', url, auth: bobToken })).json().items).toHaveLength(1)
    expect((await t.request({ method: 'GET', url })).json().items).toHaveLength(1)
    expect((await t.request({ method: 'GET', url, auth: carolToken })).statusCode).toBe(404)
    expect((await t.request({ method: 'GET', url, auth: null })).statusCode).toBe(401)
    expect((await t.request({ method: 'DELETE', url: `${url}/oidc`, auth: carolToken })).statusCode).toBe(404)
    expect((await t.request({ method: 'DELETE', url: `${url}/github`, auth: bobToken })).statusCode).toBe(404)
    expect(await links()).toHaveLength(1)
    expect((await t.request({ method: 'DELETE', url: `${url}/oidc`, auth: bobToken })).statusCode).toBe(204)
    expect(await links()).toHaveLength(0)
    expect(carol.id).not.toBe(bob.id)
  })

  test('a flow started anonymously cannot be finished with a bearer token (login CSRF)', async () => {
    await createRecord(t, 'users', {
      email: 'bob@example.com',
      password: 'bobs-password',
      passwordConfirm: 'bobs-password',
    })
    const bobToken = (
      await t.request({
        method: 'POST',
        url: '/api/collections/users/auth-with-password',
        payload: { identity: 'bob@example.com', password: 'bobs-password' },
        auth: null,
      })
    ).json().token
    const back = await visitProvider('alice')
    const response = await finish(back, bobToken)
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:oauth2_invalid_state')
    expect(await links()).toHaveLength(0)
  })

  test('deleting a record removes its links', async () => {
    const { record } = (await signIn('alice')).json()
    const deleted = await t.request({ method: 'DELETE', url: `/api/collections/users/records/${record.id}` })
    expect(deleted.statusCode).toBe(204)
    expect(await links()).toHaveLength(0)
  })

  test('an unreachable provider is a 502, not a 500', async () => {
    const { state } = await start()
    await op.close()
    const put = await t.request({
      method: 'PUT',
      url: '/api/collections/users/oauth2-providers',
      payload: {
        enabled: true,
        providers: [{ name: 'oidc', clientId: 'x', issuer: op.issuer, redirectURLs: [REDIRECT] }],
      },
    })
    expect(put.statusCode, put.body).toBe(200)
    const response = await finish({ code: 'whatever', state })
    expect(response.statusCode).toBe(502)
    expect(response.json().type).toBe('urn:plinth:error:oauth2_provider_unavailable')
  })
})
