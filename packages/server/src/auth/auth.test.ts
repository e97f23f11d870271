import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { createSetupLink } from './index.js'

const signInUrl = '/api/collections/_superusers/auth-with-password'

describe.each(testDialects)('superuser sign-in and tokens on %s', (kind) => {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind)
  })
  afterEach(async () => t?.close())
  const signIn = (payload: object) => t.request({ method: 'POST', url: signInUrl, payload, auth: null })

  test('a right password gives a token with the contract claims', async () => {
    const response = await signIn({
      identity: ` ${SUPERUSER_EMAIL.toUpperCase()} `,
      password: SUPERUSER_PASSWORD,
    })
    expect(response.statusCode).toBe(200)
    const { token, record } = response.json()
    expect(record).toMatchObject({ email: SUPERUSER_EMAIL, collectionName: '_superusers' })
    expect(record).not.toHaveProperty('password')
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((part: string) => JSON.parse(Buffer.from(part, 'base64url').toString()))
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'JWT' })
    expect(header.kid).toBeTypeOf('string')
    expect(payload).toMatchObject({
      iss: t.config.publicUrl,
      sub: record.id,
      col: '_superusers',
      typ: 'access',
    })
    expect(payload.exp - payload.iat).toBe(900)
    expect(payload.sid).toBeTypeOf('string')
    const collections = await t.request({ method: 'GET', url: '/api/collections', auth: token })
    expect(collections.statusCode).toBe(200)
  })

  const badSignIns = [
    { name: 'wrong password', payload: { identity: SUPERUSER_EMAIL, password: 'wrong' }, status: 400 },
    {
      name: 'unknown identity',
      payload: { identity: 'nobody@example.com', password: SUPERUSER_PASSWORD },
      status: 400,
    },
    { name: 'missing password', payload: { identity: SUPERUSER_EMAIL }, status: 400 },
    {
      name: 'unknown field',
      payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD, admin: true },
      status: 400,
    },
    { name: 'wrong type', payload: { identity: 5, password: SUPERUSER_PASSWORD }, status: 400 },
    { name: 'injection', payload: { identity: "' OR 1=1 --", password: "' OR 1=1 --" }, status: 400 },
  ]
  test.each(badSignIns)('$name is refused without a token', async ({ payload, status }) => {
    const response = await signIn(payload)
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).not.toHaveProperty('token')
  })

  test('unknown identity and wrong password answer alike', async () => {
    const unknown = (await signIn({ identity: 'nobody@example.com', password: 'x' })).json()
    const wrong = (await signIn({ identity: SUPERUSER_EMAIL, password: 'x' })).json()
    expect({ ...unknown, instance: '' }).toEqual({ ...wrong, instance: '' })
  })

  test('sign-in is only for auth collections', async () => {
    await t.request({ method: 'POST', url: '/api/collections', payload: { name: 'notes' } })
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/notes/auth-with-password',
      payload: { identity: 'a', password: 'b' },
    })
    expect(response.statusCode).toBe(404)
  })

  test('forged tokens are refused', async () => {
    const [, payload] = t.token.split('.')
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString())
    const unsigned = new UnsecuredJWT(claims).encode()
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' })
    const header = JSON.parse(Buffer.from(t.token.split('.')[0]!, 'base64url').toString())
    const otherKey = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: header.kid })
      .sign(privateKey)
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: header.kid })
      .sign(new TextEncoder().encode('x'.repeat(32)))
    const expired = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) - 3600 })
      .setProtectedHeader({ alg: 'EdDSA', kid: header.kid })
      .sign(privateKey)
    const tampered = `${t.token.split('.')[0]}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${t.token.split('.')[2]}`
    for (const token of [unsigned, otherKey, hs256, expired, tampered, `${t.token}x`]) {
      const response = await t.request({ method: 'GET', url: '/api/collections', auth: token })
      expect(response.statusCode, token).toBe(401)
      expect(response.json().type).toBe('urn:plinth:error:invalid_token')
    }
  })

  describe('revocation and the verified-token cache', () => {
    const revokeAll = () =>
      t.app.plinth.dialect.db.updateTable('_sessions').set({ revoked: new Date().toISOString() }).execute()
    const collections = () => t.request({ method: 'GET', url: '/api/collections' })
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] })
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    test('a revoked session ends its tokens within a second', async () => {
      expect((await collections()).statusCode).toBe(200)
      await revokeAll()
      vi.setSystemTime(Date.now() + 1000)
      const response = await collections()
      expect(response.statusCode).toBe(401)
      expect(response.json().type).toBe('urn:plinth:error:invalid_token')
    })

    test('a clock set back does not keep a revoked token alive', async () => {
      expect((await collections()).statusCode).toBe(200)
      await revokeAll()
      vi.setSystemTime(Date.now() - 10_000)
      expect((await collections()).statusCode).toBe(401)
    })
  })

  test('first-run setup: one use, valid token only, then closed', async () => {
    await t.app.plinth.dialect.db.deleteFrom('_superusers').execute()
    const link = await createSetupLink(t.app.plinth.dialect.db, t.config.publicUrl)
    const token = link!.split('#token=')[1]!
    const body = {
      email: 'first@example.com',
      password: 'first password 1',
      passwordConfirm: 'first password 1',
    }
    const setup = (payload: object) => t.request({ method: 'POST', url: '/api/setup', payload, auth: null })
    expect((await setup({ ...body, token: 'wrong' })).statusCode).toBe(401)
    expect((await setup({ ...body, token, extra: 1 })).statusCode).toBe(400)
    const weak = await setup({ ...body, token, password: 'short', passwordConfirm: 'short' })
    expect(weak.statusCode).toBe(400)
    const created = await setup({ ...body, token })
    expect(created.statusCode, created.body).toBe(201)
    expect(created.json().record.email).toBe('first@example.com')
    const again = await setup({ ...body, token })
    expect(again.statusCode).toBe(409)
    // The link opens the admin app, which posts to /api/setup as above.
    const page = await t.request({ method: 'GET', url: '/_/setup', auth: null })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toContain('text/html')
    expect(page.body).toContain('<div id="root">')
  })

  test('an expired setup token is refused', async () => {
    await t.app.plinth.dialect.db.deleteFrom('_superusers').execute()
    const link = await createSetupLink(t.app.plinth.dialect.db, t.config.publicUrl)
    await t.app.plinth.dialect.db
      .updateTable('_setup_tokens')
      .set({ expires: '2000-01-01T00:00:00.000Z' })
      .execute()
    const response = await t.request({
      method: 'POST',
      url: '/api/setup',
      auth: null,
      payload: {
        token: link!.split('#token=')[1],
        email: 'a@example.com',
        password: 'first password 1',
        passwordConfirm: 'first password 1',
      },
    })
    expect(response.statusCode).toBe(401)
  })
})
