import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { createCollection, createRecord } from '../../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { discordProfile, githubProfile, presetFor } from './presets.js'

const URL_ = '/api/collections/users/oauth2-providers'
const SECRET = 'super-secret-client-secret'
const google = {
  name: 'google',
  clientId: 'client-1',
  clientSecret: SECRET,
  redirectURLs: ['https://app.example.com/cb', 'com.example.app:/oauth2'],
}

const badInput: { name: string; payload: unknown; field?: string }[] = [
  { name: 'malformed JSON', payload: '{"enabled": tru' },
  { name: 'wrong type', payload: { enabled: 'yes', providers: [] } },
  { name: 'unknown field', payload: { enabled: true, providers: [], extra: 1 } },
  { name: 'unknown provider field', payload: { enabled: true, providers: [{ ...google, tenant: 'x' }] } },
  {
    name: 'unknown provider name',
    payload: { enabled: true, providers: [{ ...google, name: "google'; DROP TABLE users; --" }] },
    field: 'providers.0.name',
  },
  {
    name: 'duplicate provider',
    payload: { enabled: true, providers: [google, google] },
    field: 'providers.1.name',
  },
  {
    name: 'missing secret on a new provider',
    payload: { enabled: true, providers: [{ ...google, name: 'gitlab', clientSecret: undefined }] },
    field: 'providers.0.clientSecret',
  },
  {
    name: 'generic OIDC without issuer',
    payload: { enabled: true, providers: [{ ...google, name: 'oidc' }] },
    field: 'providers.0.issuer',
  },
  {
    name: 'plain http issuer',
    payload: { enabled: true, providers: [{ ...google, name: 'oidc', issuer: 'http://id.example.com' }] },
    field: 'providers.0.issuer',
  },
  {
    name: 'fixed issuer overridden',
    payload: { enabled: true, providers: [{ ...google, issuer: 'https://evil.example.com' }] },
    field: 'providers.0.issuer',
  },
  {
    name: 'javascript: redirect URL',
    payload: { enabled: true, providers: [{ ...google, redirectURLs: ['javascript:alert(1)'] }] },
    field: 'providers.0.redirectURLs.0',
  },
  {
    name: 'plain http redirect URL',
    payload: { enabled: true, providers: [{ ...google, redirectURLs: ['http://app.example.com/cb'] }] },
    field: 'providers.0.redirectURLs.0',
  },
  {
    name: 'redirect URL with a query',
    payload: { enabled: true, providers: [{ ...google, redirectURLs: ['https://app.example.com/cb?x=1'] }] },
    field: 'providers.0.redirectURLs.0',
  },
  {
    name: 'OIDC scopes without openid',
    payload: { enabled: true, providers: [{ ...google, scopes: ['email'] }] },
    field: 'providers.0.scopes',
  },
  {
    name: 'scope with a space',
    payload: { enabled: true, providers: [{ ...google, scopes: ['openid email'] }] },
  },
]

describe.each(testDialects)('OAuth2 provider settings on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
    await createCollection(t, { name: 'users', type: 'auth', fields: [], createRule: '' })
  })

  afterEach(async () => {
    await t?.close()
  })

  function put(payload: unknown, auth?: string | null) {
    return t.request({
      method: 'PUT',
      url: URL_,
      payload: payload as object,
      headers: { 'content-type': 'application/json' },
      auth,
    })
  }

  test('secrets are sealed in the database and never returned', async () => {
    const response = await put({ enabled: true, providers: [google] })
    expect(response.statusCode, response.body).toBe(200)
    expect(response.body).not.toContain(SECRET)
    expect(response.json().providers[0]).toMatchObject({ name: 'google', clientSecretSet: true })
    const row = await t.app.plinth.dialect.db
      .selectFrom('_oauth2_providers')
      .selectAll()
      .executeTakeFirstOrThrow()
    expect(JSON.stringify(row)).not.toContain(SECRET)
    const read = await t.request({ method: 'GET', url: URL_ })
    expect(read.body).not.toContain(SECRET)
    // The known providers come along, so an editor offers what a write accepts.
    const known = read.json().known as { name: string; kind: string; issuer: string | null }[]
    expect(known.map((provider) => provider.name)).toEqual(
      expect.arrayContaining(['oidc', 'google', 'microsoft', 'apple', 'gitlab', 'github', 'discord']),
    )
    expect(known.find((provider) => provider.name === 'oidc')).toMatchObject({ kind: 'oidc', issuer: null })
    expect(known.find((provider) => provider.name === 'github')).toMatchObject({
      kind: 'oauth2',
      issuer: null,
    })
    // A later write without the secret keeps the sealed one.
    const again = await put({
      enabled: true,
      providers: [{ ...google, clientSecret: undefined, displayName: 'G' }],
    })
    expect(again.statusCode, again.body).toBe(200)
    const kept = await t.app.plinth.dialect.db
      .selectFrom('_oauth2_providers')
      .selectAll()
      .executeTakeFirstOrThrow()
    expect(JSON.parse(kept.providers as string)[0].clientSecretSealed).toBe(
      JSON.parse(row.providers as string)[0].clientSecretSealed,
    )
  })

  test('only superusers read or change the settings', async () => {
    await createRecord(t, 'users', {
      email: 'u@example.com',
      password: 'user-password',
      passwordConfirm: 'user-password',
    })
    const signIn = await t.request({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      payload: { identity: 'u@example.com', password: 'user-password' },
      auth: null,
    })
    const userToken = signIn.json().token as string
    expect((await put({ enabled: true, providers: [google] }, null)).statusCode).toBe(401)
    expect((await put({ enabled: true, providers: [google] }, userToken)).statusCode).toBe(403)
    expect((await t.request({ method: 'GET', url: URL_, auth: userToken })).statusCode).toBe(403)
    expect((await t.request({ method: 'GET', url: URL_, auth: null })).statusCode).toBe(401)
  })

  test('superusers and base collections cannot have providers', async () => {
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }] })
    const base = await t.request({
      method: 'PUT',
      url: '/api/collections/posts/oauth2-providers',
      payload: { enabled: true, providers: [] },
    })
    expect(base.statusCode).toBe(404)
    const system = await t.request({
      method: 'PUT',
      url: '/api/collections/_superusers/oauth2-providers',
      payload: { enabled: true, providers: [google] },
    })
    expect(system.statusCode).toBe(400)
    expect(system.json().errors.collection.code).toBe('unsupported')
  })

  test.for(badInput)('rejects $name and changes nothing', async ({ payload, field }) => {
    await put({ enabled: true, providers: [google] })
    const before = (await t.request({ method: 'GET', url: URL_ })).json()
    const response = await put(payload)
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    if (field) expect(response.json().errors[field].code).toBeTypeOf('string')
    expect((await t.request({ method: 'GET', url: URL_ })).json()).toEqual(before)
  })

  test('the sign-in endpoints reject bad bodies with a problem', async () => {
    const bodies = [
      { url: 'request-oauth2', payload: '{"provider":' },
      { url: 'request-oauth2', payload: { provider: 1, redirectURL: 'https://app.example.com/cb' } },
      {
        url: 'request-oauth2',
        payload: { provider: 'google', redirectURL: 'https://app.example.com/cb', x: 1 },
      },
      { url: 'auth-with-oauth2', payload: { provider: 'google', code: 'c', state: 's' } },
      {
        url: 'auth-with-oauth2',
        payload: {
          provider: 'google',
          code: 'c',
          state: 's',
          redirectURL: 'https://app.example.com/cb',
          createData: [],
        },
      },
    ]
    for (const { url, payload } of bodies) {
      const response = await t.request({
        method: 'POST',
        url: `/api/collections/users/${url}`,
        payload: payload as object,
        headers: { 'content-type': 'application/json' },
        auth: null,
      })
      expect(response.statusCode, JSON.stringify(payload)).toBe(400)
      expect(response.headers['content-type']).toContain('application/problem+json')
    }
    const missing = await t.request({ method: 'GET', url: '/api/collections/nope/auth-methods', auth: null })
    expect(missing.statusCode).toBe(404)
  })
})

describe('provider presets', () => {
  test('names map to presets; generic OIDC takes labels', () => {
    expect(presetFor('google')?.kind).toBe('oidc')
    expect(presetFor('github')?.kind).toBe('oauth2')
    expect(presetFor('oidc-corp')?.kind).toBe('oidc')
    expect(presetFor('toString')).toBeNull()
    expect(presetFor('oidc-')).toBeNull()
  })

  test('GitHub trusts only the primary verified address', () => {
    const user = { id: 42, login: 'octo', name: null, avatar_url: 'https://avatars.example/42' }
    expect(githubProfile(user, [{ email: 'Octo@Example.com', primary: true, verified: true }])).toEqual({
      id: '42',
      email: 'octo@example.com',
      emailVerified: true,
      name: 'octo',
      avatarURL: 'https://avatars.example/42',
    })
    const unverified = githubProfile(user, [
      { email: 'a@example.com', primary: true, verified: false },
      { email: 'b@example.com', primary: false, verified: true },
    ])
    expect(unverified).toMatchObject({ email: 'a@example.com', emailVerified: false })
    expect(() => githubProfile({}, [])).toThrow()
  })

  test('Discord maps its verified flag and avatar', () => {
    expect(
      discordProfile({ id: '7', username: 'd', email: 'd@example.com', verified: true, avatar: 'abc' }),
    ).toEqual({
      id: '7',
      email: 'd@example.com',
      emailVerified: true,
      name: 'd',
      avatarURL: 'https://cdn.discordapp.com/avatars/7/abc.png',
    })
    expect(discordProfile({ id: '7', email: 'd@example.com' }).emailVerified).toBe(false)
  })
})
