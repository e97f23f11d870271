import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { defaultRateLimits, loadConfig, type RateLimits } from '../config/index.js'
import { createTestApp, SUPERUSER_EMAIL, SUPERUSER_PASSWORD, type TestApp } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'

const PASSWORD = 'user password 1'
const signInUrl = '/api/collections/users/auth-with-password'
// A small general limit keeps the tests short; sign-in and sign-up keep their defaults.
const limits: RateLimits = { ...defaultRateLimits, api: { max: 5, windowMs: 10_000 } }

describe.each(testDialects)('rate limits on %s', (kind) => {
  let t: TestApp
  let ann: string

  async function setUp(overrides: Parameters<typeof createTestApp>[1]) {
    t = await createTestApp(kind, overrides)
    const users = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'users', type: 'auth', createRule: '', listRule: '' },
    })
    expect(users.statusCode, users.body).toBe(201)
    const signUp = await t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      remoteAddress: '10.9.9.9',
      payload: { email: 'ann@example.com', password: PASSWORD, passwordConfirm: PASSWORD },
    })
    expect(signUp.statusCode, signUp.body).toBe(201)
    const signIn = await t.request({
      method: 'POST',
      url: signInUrl,
      auth: null,
      remoteAddress: '10.9.9.9',
      payload: { identity: 'ann@example.com', password: PASSWORD },
    })
    expect(signIn.statusCode, signIn.body).toBe(200)
    ann = signIn.json().token
  }

  afterEach(async () => {
    vi.useRealTimers()
    await t?.close()
  })

  // A body that fails validation still counts: the limit runs before the body is read.
  const signInFrom = (remoteAddress: string, auth: string | null = null) =>
    t.request({ method: 'POST', url: signInUrl, auth, remoteAddress, payload: {} })

  describe('with limits on', () => {
    beforeEach(async (context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
      vi.useFakeTimers({ toFake: ['Date'] })
      await setUp({ rateLimits: limits })
    })

    test('the 31st sign-in within a minute answers 429 with Retry-After, until the window ends', async () => {
      for (let i = 0; i < 30; i++) expect((await signInFrom('10.0.0.1')).statusCode).toBe(400)
      const limited = await signInFrom('10.0.0.1')
      expect(limited.statusCode).toBe(429)
      expect(limited.headers['content-type']).toContain('application/problem+json')
      expect(limited.json()).toMatchObject({ type: 'urn:plinth:error:rate_limited', status: 429 })
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60)
      // Every sign-in action shares the budget: it is per client, not per route.
      const other = await t.request({
        method: 'POST',
        url: '/api/collections/_superusers/auth-with-password',
        auth: null,
        remoteAddress: '10.0.0.1',
        payload: {},
      })
      expect(other.statusCode).toBe(429)
      vi.setSystemTime(Date.now() + 60_000)
      expect((await signInFrom('10.0.0.1')).statusCode).toBe(400)
    })

    test('each client address has a budget of its own', async () => {
      for (let i = 0; i < 31; i++) await signInFrom('10.0.0.1')
      expect((await signInFrom('10.0.0.1')).statusCode).toBe(429)
      expect((await signInFrom('10.0.0.2')).statusCode).toBe(400)
      expect((await signInFrom('2001:db8::1')).statusCode).toBe(400)
    })

    test('IPv6 clients of one /64 share a budget', async () => {
      for (let i = 0; i < 30; i++) await signInFrom(`2001:db8::${i + 1}`)
      expect((await signInFrom('2001:db8::ffff')).statusCode).toBe(429)
      expect((await signInFrom('2001:db8:0:1::1')).statusCode).toBe(400)
    })

    test('a signed-in user is counted per record, not per address', async () => {
      for (let i = 0; i < 5; i++)
        expect(
          (await t.request({ method: 'GET', url: '/api/health', auth: ann, remoteAddress: '10.0.0.3' }))
            .statusCode,
        ).toBe(200)
      const limited = await t.request({
        method: 'GET',
        url: '/api/health',
        auth: ann,
        remoteAddress: '10.0.0.4',
      })
      expect(limited.statusCode).toBe(429)
      expect(limited.headers['retry-after']).toBeDefined()
      const anonymous = await t.request({
        method: 'GET',
        url: '/api/health',
        auth: null,
        remoteAddress: '10.0.0.3',
      })
      expect(anonymous.statusCode).toBe(200)
      vi.setSystemTime(Date.now() + 10_000)
      expect((await t.request({ method: 'GET', url: '/api/health', auth: ann })).statusCode).toBe(200)
    })

    test('superusers skip the general limit, but not the sign-in limit', async () => {
      for (let i = 0; i < 20; i++)
        expect(
          (await t.request({ method: 'GET', url: '/api/collections', remoteAddress: '10.0.0.5' })).statusCode,
        ).toBe(200)
      for (let i = 0; i < 30; i++) await signInFrom('10.0.0.5', t.token)
      const limited = await t.request({
        method: 'POST',
        url: '/api/collections/_superusers/auth-with-password',
        auth: t.token,
        remoteAddress: '10.0.0.5',
        payload: { identity: SUPERUSER_EMAIL, password: SUPERUSER_PASSWORD },
      })
      expect(limited.statusCode).toBe(429)
    })

    test('the 21st sign-up within a minute answers 429; other creates count as general requests', async () => {
      const signUp = (i: number) =>
        t.request({
          method: 'POST',
          url: '/api/collections/users/records',
          auth: null,
          remoteAddress: '10.0.0.6',
          payload: { email: `u${i}@example.com`, password: 'x' },
        })
      for (let i = 0; i < 20; i++) expect((await signUp(i)).statusCode).toBe(400)
      const limited = await signUp(20)
      expect(limited.statusCode).toBe(429)
      expect(limited.headers['retry-after']).toBeDefined()
      const listed = await t.request({
        method: 'GET',
        url: '/api/collections/users/records',
        auth: null,
        remoteAddress: '10.0.0.6',
      })
      expect(listed.statusCode).toBe(200)
    })

    test('X-Forwarded-For from an untrusted peer does not change the client address', async () => {
      for (let i = 0; i < 30; i++)
        await t.request({
          method: 'POST',
          url: signInUrl,
          auth: null,
          remoteAddress: '10.0.0.7',
          headers: { 'x-forwarded-for': `192.0.2.${i}` },
          payload: {},
        })
      const limited = await t.request({
        method: 'POST',
        url: signInUrl,
        auth: null,
        remoteAddress: '10.0.0.7',
        headers: { 'x-forwarded-for': '192.0.2.200' },
        payload: {},
      })
      expect(limited.statusCode).toBe(429)
    })
  })

  describe('behind a trusted proxy', () => {
    beforeEach(async (context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
      await setUp({ rateLimits: limits, trustProxy: ['10.1.1.1'] })
    })

    const viaProxy = (client: string, payload: object = {}) =>
      t.request({
        method: 'POST',
        url: signInUrl,
        auth: null,
        remoteAddress: '10.1.1.1',
        headers: { 'x-forwarded-for': client },
        payload,
      })

    test('X-Forwarded-For from the proxy names the client', async () => {
      for (let i = 0; i < 30; i++) await viaProxy('198.51.100.1')
      expect((await viaProxy('198.51.100.1')).statusCode).toBe(429)
      expect((await viaProxy('198.51.100.2')).statusCode).toBe(400)
      await viaProxy('198.51.100.3', { identity: 'ann@example.com', password: 'wrong password' })
      const audit = await t.request({ method: 'GET', url: '/api/audit?event=sign_in_failed' })
      expect(audit.json().items[0].ip).toBe('198.51.100.3')
    })
  })

  describe('turned off', () => {
    beforeEach(async (context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
      await setUp({ rateLimits: loadConfig({ PLINTH_RATE_LIMITS: 'off' }).rateLimits })
    })

    test('PLINTH_RATE_LIMITS=off lets any number of requests through', async () => {
      for (let i = 0; i < 40; i++) expect((await signInFrom('10.0.0.8')).statusCode).toBe(400)
      for (let i = 0; i < 30; i++)
        expect((await t.request({ method: 'GET', url: '/api/health', auth: ann })).statusCode).toBe(200)
    })
  })
})

describe('rate limit settings', () => {
  test('default to on, with the documented limits', () => {
    expect(loadConfig({}).rateLimits).toEqual({
      enabled: true,
      auth: { max: 30, windowMs: 60_000 },
      signUp: { max: 20, windowMs: 60_000 },
      api: { max: 1000, windowMs: 10_000 },
    })
  })

  test('read requests/window from the environment', () => {
    const { rateLimits } = loadConfig({
      PLINTH_RATE_LIMITS: 'OFF',
      PLINTH_RATE_LIMIT_AUTH: '10/5m',
      PLINTH_RATE_LIMIT_SIGNUP: '3 / 1h',
      PLINTH_RATE_LIMIT_API: '200/1s',
    })
    expect(rateLimits).toEqual({
      enabled: false,
      auth: { max: 10, windowMs: 300_000 },
      signUp: { max: 3, windowMs: 3_600_000 },
      api: { max: 200, windowMs: 1000 },
    })
  })

  test.for([
    ['PLINTH_RATE_LIMITS', 'maybe'],
    ['PLINTH_RATE_LIMIT_AUTH', '30'],
    ['PLINTH_RATE_LIMIT_AUTH', '0/60s'],
    ['PLINTH_RATE_LIMIT_SIGNUP', '20/2d'],
    ['PLINTH_RATE_LIMIT_API', '1000/100ms'],
    ['PLINTH_RATE_LIMIT_API', '-1/10s'],
  ])('reject %s=%s with a message naming the key', ([key, value]) => {
    expect(() => loadConfig({ [key!]: value })).toThrow(key)
  })
})
