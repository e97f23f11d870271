import { NobleCryptoPlugin, ScureBase32Plugin, TOTP } from 'otplib'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { createMailTestApp, type MailTestApp, post } from '../test-support/email-flows.js'
import { sendForm } from '../test-support/files.js'
import { startOidcProvider, type TestOidcProvider } from '../test-support/oidc-provider.js'
import { SoftwareAuthenticator } from '../test-support/software-authenticator.js'

const PUBLIC_URL = 'https://app.example.com'
const REDIRECT = 'https://app.example.com/oauth2/callback'
const PASSWORD = 'user password 1'
const totp = new TOTP({ crypto: new NobleCryptoPlugin(), base32: new ScureBase32Plugin() })

const authDefinition = (name: string) => ({
  name,
  type: 'auth',
  createRule: '',
  viewRule: 'id = @request.auth.id',
  fields: [{ name: 'avatar', type: 'file' }],
  options: { otp: { enabled: true } },
})

describe.each(testDialects)('deleting an auth collection on %s', (kind) => {
  let m: MailTestApp
  let op: TestOidcProvider
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind, { publicUrl: PUBLIC_URL }, authDefinition('users'))
    await createCollection(m.t, authDefinition('members'))
    op = await startOidcProvider(REDIRECT)
    op.accounts.set('alice', { email: 'alice@example.com', email_verified: true, name: 'Alice' })
  })
  afterEach(async () => {
    await op?.close()
    await m?.close()
  })

  const db = () => m.t.app.plinth.dialect.db
  const idOf = async (name: string) =>
    (await m.t.request({ method: 'GET', url: `/api/collections/${name}` })).json().id as string

  async function ok(response: Promise<{ statusCode: number; body: string; json(): any }>, status = 200) {
    const answer = await response
    expect(answer.statusCode, answer.body).toBe(status)
    return answer.body === '' ? null : answer.json()
  }

  /** Leaves a row in every table Plinth keeps for the records of `collection`, each through the API. */
  async function useEverything(collection: string) {
    const base = `/api/collections/${collection}`
    const request = (
      method: 'GET' | 'POST' | 'PUT',
      url: string,
      payload?: object,
      auth: string | null = null,
    ) => m.t.request({ method, url: `${base}${url}`, payload, auth })
    const signUp = { email: 'ann@example.com', password: PASSWORD, passwordConfirm: PASSWORD }
    const ann = await ok(request('POST', '/records', signUp), 201)
    const avatar = await sendForm(m.t, 'PATCH', `${base}/records/${ann.id}`, [
      ['avatar', { name: 'ann.txt', bytes: 'a picture of Ann' }],
    ])
    expect(avatar.statusCode, avatar.body).toBe(200)
    const { token } = await ok(
      request('POST', '/auth-with-password', { identity: signUp.email, password: PASSWORD }),
    )
    await ok(request('POST', '/request-verification', { email: signUp.email }), 204)
    await m.inbox.next()
    await ok(
      m.t.request({
        method: 'POST',
        url: '/api/auth/api-keys',
        auth: token,
        payload: { name: 'script', scopes: [{ collection, operations: ['view'] }] },
      }),
      201,
    )
    const { secret } = await ok(request('POST', '/mfa/totp/setup', undefined, token))
    const code = await totp.generate({ secret, epoch: Math.floor(Date.now() / 1000) })
    await ok(request('POST', '/mfa/totp/confirm', { code }, token))
    const device = new SoftwareAuthenticator('app.example.com', PUBLIC_URL)
    const options = await ok(request('POST', '/passkeys/register/options', undefined, token))
    await ok(request('POST', '/passkeys/register/verify', { response: device.create(options) }, token), 201)
    await ok(request('POST', '/passkeys/register/options', undefined, token))
    const { mfaId } = await ok(
      request('POST', '/auth-with-password', { identity: signUp.email, password: PASSWORD }),
    )
    expect(mfaId).toBeTypeOf('string')
    // Failures last: a right answer clears the counters of its identity.
    const wrong = { identity: signUp.email, password: 'wrong password' }
    await ok(request('POST', '/auth-with-password', wrong), 400)
    await ok(request('POST', '/auth-with-mfa', { mfaId, code: '000000' }), 400)

    const provider = {
      name: 'oidc',
      clientId: op.clientId,
      clientSecret: op.clientSecret,
      issuer: op.issuer,
      redirectURLs: [REDIRECT],
    }
    await ok(request('PUT', '/oauth2-providers', { enabled: true, providers: [provider] }, m.t.token))
    const start = { provider: 'oidc', redirectURL: REDIRECT }
    const { authURL } = await ok(request('POST', '/request-oauth2', start))
    const back = await op.authorize(authURL, 'alice')
    const completion = { ...start, code: back.get('code'), state: back.get('state'), iss: back.get('iss') }
    await ok(request('POST', '/auth-with-oauth2', completion))
    await ok(request('POST', '/request-oauth2', start))
  }

  /** Every system table with a `collection_id` column, found in the database itself. */
  async function tablesByCollection(): Promise<string[]> {
    const tables = await db().introspection.getTables()
    const names = tables
      .filter((table) => table.name.startsWith('_') && table.columns.some((c) => c.name === 'collection_id'))
      .map((table) => table.name)
    return [...new Set(names)].sort()
  }

  async function rowsOf(table: string, collectionId: string): Promise<number> {
    const row = await db()
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('collection_id', '=', collectionId)
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async function refreshTokensOf(collectionId: string): Promise<number> {
    const row = await db()
      .selectFrom('_refresh_tokens')
      .innerJoin('_sessions', '_sessions.id', '_refresh_tokens.session_id')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('_sessions.collection_id', '=', collectionId)
      .executeTakeFirst()
    return Number(row?.n ?? 0)
  }

  async function census(collectionId: string): Promise<Record<string, number>> {
    const counts: Record<string, number> = { _refresh_tokens: await refreshTokensOf(collectionId) }
    for (const table of await tablesByCollection()) counts[table] = await rowsOf(table, collectionId)
    return counts
  }

  test('takes its rows in every system table along, and leaves other collections and the audit log alone', async () => {
    await useEverything('users')
    await useEverything('members')
    const users = await idOf('users')
    const members = await idOf('members')
    const before = await census(users)
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining(['_sessions', '_api_keys', '_external_auths', '_passkeys', '_sign_in_failures']),
    )
    for (const [table, count] of Object.entries(before)) expect(count, table).toBeGreaterThan(0)
    const othersBefore = await census(members)

    await ok(m.t.request({ method: 'DELETE', url: '/api/collections/users' }), 204)

    const after = await census(users)
    expect(after).toEqual({
      ...Object.fromEntries(Object.keys(before).map((t) => [t, 0])),
      _audit: before._audit,
    })
    expect(await census(members)).toEqual(othersBefore)
  })

  test('a collection created again under the old id starts with nothing', async () => {
    await useEverything('users')
    const definition = await ok(m.t.request({ method: 'GET', url: '/api/collections/users' }))
    const ann = await ok(
      m.t.request({
        method: 'GET',
        url: `/api/collections/users/records?filter=${encodeURIComponent('email = "ann@example.com"')}`,
      }),
    )
    await ok(m.t.request({ method: 'DELETE', url: '/api/collections/users' }), 204)
    await createCollection(m.t, { ...authDefinition('users'), id: definition.id })
    const signUp = {
      id: ann.items[0].id,
      email: 'ann@example.com',
      password: PASSWORD,
      passwordConfirm: PASSWORD,
    }
    await ok(
      m.t.request({ method: 'POST', url: '/api/collections/users/records', payload: signUp, auth: null }),
      201,
    )
    const signIn = await ok(
      post(m.t, 'auth-with-password', { identity: 'ann@example.com', password: PASSWORD }),
    )
    expect(signIn).toHaveProperty('token')
    expect(signIn).not.toHaveProperty('mfaId')
    const providers = await ok(
      m.t.request({ method: 'GET', url: '/api/collections/users/auth-methods', auth: null }),
    )
    expect(providers.oauth2.enabled).toBe(false)
  })

  test('reverting the migration that created a collection forgets its rows too', async () => {
    await useEverything('members')
    const members = await idOf('members')
    await m.t.app.plinth.collections.migrateDown()
    expect((await m.t.request({ method: 'GET', url: '/api/collections/members' })).statusCode).toBe(404)
    const after = await census(members)
    expect(after).toEqual({
      ...Object.fromEntries(Object.keys(after).map((t) => [t, 0])),
      _audit: after._audit,
    })
    expect(after._audit).toBeGreaterThan(0)
  })
})
