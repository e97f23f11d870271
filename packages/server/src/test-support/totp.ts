import { NobleCryptoPlugin, ScureBase32Plugin, TOTP } from 'otplib'
import { afterEach, beforeEach, expect, vi } from 'vitest'
import { defaultRateLimits } from '../config/index.js'
import { passwordSignIn as signInWithPassword, signUp as signUpAccount } from './accounts.js'
import { createTestApp, type TestApp } from './app.js'
import { postgresSkipReason, shouldSkip, type TestDialect } from './databases.js'

export const users = '/api/collections/users'
const authenticator = new TOTP({ crypto: new NobleCryptoPlugin(), base32: new ScureBase32Plugin() })

/** The code an authenticator app shows now (or `offset` seconds from now). */
export const codeFor = (secret: string, offset = 0) =>
  authenticator.generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset })

/** Moves the faked clock on; 30 s is one TOTP step. */
export const advance = (ms: number) => vi.setSystemTime(Date.now() + ms)

/**
 * A fresh app per test with an auth collection `users`, on a faked clock, and the steps
 * of signing up, signing in and enrolling TOTP. Call inside a describe block.
 */
export function totpApp(kind: TestDialect) {
  let t: TestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2031-05-01T10:00:05Z') })
    t = await createTestApp(kind, { rateLimits: { ...defaultRateLimits, enabled: false } })
    await createAuthCollection('users')
  })
  afterEach(async () => {
    await t?.close()
    vi.useRealTimers()
  })

  async function createAuthCollection(name: string, options: object = {}) {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name, type: 'auth', createRule: '', options },
    })
    expect(response.statusCode, response.body).toBe(201)
  }

  const signUp = (email: string, collection = 'users') => signUpAccount(t, email, { collection })
  const passwordSignIn = (email: string, collection = 'users') => signInWithPassword(t, email, { collection })

  async function signedIn(email: string): Promise<string> {
    const response = await passwordSignIn(email)
    expect(response.statusCode, response.body).toBe(200)
    return response.json().token
  }

  /** Signs up, signs in and turns TOTP on. */
  async function enrolled(email = 'ann@example.com') {
    await signUp(email)
    const token = await signedIn(email)
    const setup = await t.request({ method: 'POST', url: `${users}/mfa/totp/setup`, auth: token })
    expect(setup.statusCode, setup.body).toBe(200)
    const { secret } = setup.json()
    const confirm = await t.request({
      method: 'POST',
      url: `${users}/mfa/totp/confirm`,
      auth: token,
      payload: { code: await codeFor(secret) },
    })
    expect(confirm.statusCode, confirm.body).toBe(200)
    // The confirming code's step is spent; the next sign-in uses the next step.
    advance(30_000)
    return { email, token, secret: secret as string, recoveryCodes: confirm.json().recoveryCodes as string[] }
  }

  async function mfaIdOf(email: string): Promise<string> {
    const response = await passwordSignIn(email)
    expect(response.statusCode, response.body).toBe(200)
    const body = response.json()
    expect(body).not.toHaveProperty('token')
    expect(body).not.toHaveProperty('refreshToken')
    return body.mfaId
  }

  const authWithMfa = (payload: unknown, collection = 'users') =>
    t.request({
      method: 'POST',
      url: `/api/collections/${collection}/auth-with-mfa`,
      auth: null,
      payload: payload as object,
    })

  const auditCount = async (event: string) =>
    (await t.request({ method: 'GET', url: `/api/audit?event=${event}` })).json().totalItems

  return {
    get t() {
      return t
    },
    createAuthCollection,
    signUp,
    passwordSignIn,
    signedIn,
    enrolled,
    mfaIdOf,
    authWithMfa,
    auditCount,
  }
}
