import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { SUPERUSER_EMAIL } from '../test-support/app.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import {
  createMailTestApp,
  type MailTestApp,
  post,
  signIn,
  signUp,
  tokenOf,
  USER_PASSWORD,
} from '../test-support/email-flows.js'

const STRONG = 'Strong enough 1!'
const ADA = 'ada@example.com'
// The address in other case meets every requirement as a password, so only the email rule refuses it.
const TRICKY = 'a1!bcdefghij@example.com'
const TRICKY_PASSWORD = 'A1!bcdefghij@example.com'

const users = {
  name: 'users',
  type: 'auth',
  createRule: '',
  updateRule: 'id = @request.auth.id',
  options: {
    passwordPolicy: {
      minLength: 12,
      maxLength: 40,
      requireLetter: true,
      requireMixedCase: true,
      requireDigit: true,
      requireSymbol: true,
    },
  },
}

const weakPasswords = [
  { name: 'too short', password: 'Ab1!', code: 'too_short', names: 'at least 12 characters' },
  { name: 'too long', password: `Ab1!${'x'.repeat(37)}`, code: 'too_long', names: 'at most 40 characters' },
  { name: 'blank', password: ' '.repeat(12), code: 'too_weak', names: 'blank' },
  { name: 'without a letter', password: '1234567890!!', code: 'too_weak', names: 'a letter' },
  { name: 'without upper case', password: 'lower case 1!', code: 'too_weak', names: 'upper-case' },
  { name: 'without lower case', password: 'UPPER CASE 1!', code: 'too_weak', names: 'lower-case' },
  { name: 'without a digit', password: 'No digits here!', code: 'too_weak', names: 'a digit' },
  { name: 'without a symbol', password: 'NoSymbolsHere1', code: 'too_weak', names: 'a symbol' },
]

describe.each(testDialects)('password policy on %s', (kind) => {
  // One app for every table: each refused write must leave it as it was.
  let m: MailTestApp
  let ada: { id: string; token: string }
  beforeAll(async () => {
    if (shouldSkip(kind)) return
    m = await createMailTestApp(kind, {}, users)
    const record = await signUp(m.t, ADA, STRONG)
    ada = { id: record.id, token: (await signIn(m.t, ADA, STRONG)).token }
  })
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterAll(async () => m?.close())

  const passwordsOf = (password: string) => ({ password, passwordConfirm: password })
  const userCount = async () =>
    (await m.t.request({ method: 'GET', url: '/api/collections/users/records?perPage=1' })).json().totalItems
  const signsIn = async (email: string, password: string) =>
    (await post(m.t, 'auth-with-password', { identity: email, password })).statusCode === 200

  function expectRefused(
    response: { statusCode: number; headers: Record<string, unknown>; json(): any },
    code: string,
    names: string,
  ) {
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json().errors.password.code).toBe(code)
    expect(response.json().errors.password.message).toContain(names)
  }

  test.each(weakPasswords)('sign-up with a password $name is refused', async ({ password, code, names }) => {
    const response = await m.t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      payload: { email: 'bo@example.com', ...passwordsOf(password) },
    })
    expectRefused(response, code, names)
    expect(await userCount()).toBe(1)
  })

  test.each(weakPasswords)('a change to a password $name is refused', async ({ password, code, names }) => {
    const response = await m.t.request({
      method: 'PATCH',
      url: `/api/collections/users/records/${ada.id}`,
      auth: ada.token,
      payload: passwordsOf(password),
    })
    expectRefused(response, code, names)
    expect(await signsIn(ADA, STRONG)).toBe(true)
  })

  test.each(weakPasswords)(
    'a superuser setting a password $name is refused',
    async ({ password, code, names }) => {
      const response = await m.t.request({
        method: 'PATCH',
        url: `/api/collections/users/records/${ada.id}`,
        payload: passwordsOf(password),
      })
      expectRefused(response, code, names)
      expect(await signsIn(ADA, STRONG)).toBe(true)
    },
  )

  test('a reset to a weak password is refused for each requirement, then a strong one works', async () => {
    await post(m.t, 'request-password-reset', { email: ADA })
    const token = tokenOf(await m.inbox.next(), `${m.t.config.publicUrl}/_/auth/confirm-password-reset`)
    for (const { password, code, names } of weakPasswords)
      expectRefused(
        await post(m.t, 'confirm-password-reset', { token, ...passwordsOf(password) }),
        code,
        names,
      )
    const other = 'Another strong 2?'
    expect((await post(m.t, 'confirm-password-reset', { token, ...passwordsOf(other) })).statusCode).toBe(204)
    expect(await signsIn(ADA, other)).toBe(true)
    const back = await m.t.request({
      method: 'PATCH',
      url: `/api/collections/users/records/${ada.id}`,
      payload: passwordsOf(STRONG),
    })
    expect(back.statusCode, back.body).toBe(200)
    ada.token = (await signIn(m.t, ADA, STRONG)).token
  })

  test('a password equal to the email is refused on sign-up, change, superuser set and reset', async () => {
    const signUpTricky = await m.t.request({
      method: 'POST',
      url: '/api/collections/users/records',
      auth: null,
      payload: { email: TRICKY, ...passwordsOf(TRICKY_PASSWORD) },
    })
    expectRefused(signUpTricky, 'too_weak', 'email')
    const tricky = await signUp(m.t, TRICKY, STRONG)
    const token = (await signIn(m.t, TRICKY, STRONG)).token
    for (const auth of [token, undefined]) {
      const change = await m.t.request({
        method: 'PATCH',
        url: `/api/collections/users/records/${tricky.id}`,
        auth,
        payload: passwordsOf(` ${TRICKY_PASSWORD} `),
      })
      expectRefused(change, 'too_weak', 'email')
    }
    await post(m.t, 'request-password-reset', { email: TRICKY })
    const link = tokenOf(await m.inbox.next(), `${m.t.config.publicUrl}/_/auth/confirm-password-reset`)
    const reset = await post(m.t, 'confirm-password-reset', { token: link, ...passwordsOf(TRICKY_PASSWORD) })
    expectRefused(reset, 'too_weak', 'email')
    expect(await signsIn(TRICKY, STRONG)).toBe(true)

    // Someone who may not change the record learns nothing, not even that the guess is its email.
    const bo = await signUp(m.t, 'bo@example.com', STRONG)
    const guess = await m.t.request({
      method: 'PATCH',
      url: `/api/collections/users/records/${tricky.id}`,
      auth: (await signIn(m.t, 'bo@example.com', STRONG)).token,
      payload: passwordsOf(TRICKY_PASSWORD),
    })
    expect(guess.statusCode).toBe(404)
    for (const id of [tricky.id, bo.id])
      expect(
        (await m.t.request({ method: 'DELETE', url: `/api/collections/users/records/${id}` })).statusCode,
      ).toBe(204)
  })

  test('a policy changes what the next password must be, not the passwords already set', async () => {
    const patched = await m.t.request({
      method: 'PATCH',
      url: '/api/collections/users',
      payload: { options: { passwordPolicy: { minLength: 20 } } },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    expect(await signsIn(ADA, STRONG)).toBe(true)
    expectRefused(
      await m.t.request({
        method: 'PATCH',
        url: `/api/collections/users/records/${ada.id}`,
        payload: passwordsOf(STRONG),
      }),
      'too_short',
      'at least 20 characters',
    )
    const back = await m.t.request({
      method: 'PATCH',
      url: '/api/collections/users',
      payload: { options: users.options },
    })
    expect(back.statusCode, back.body).toBe(200)
  })

  test('the API document gives the lengths of the policy', async () => {
    const document = await m.t.request({ method: 'GET', url: '/api/openapi.json' })
    const { UsersCreate, UsersUpdate } = document.json().components.schemas
    for (const body of [UsersCreate, UsersUpdate])
      expect(body.properties.password).toMatchObject({ type: 'string', minLength: 12, maxLength: 40 })
  })

  test('superusers have a policy of their own, the default unless set', async () => {
    const short = await m.t.request({
      method: 'POST',
      url: '/api/collections/_superusers/records',
      payload: { email: 'second@example.com', ...passwordsOf('seven77') },
    })
    expectRefused(short, 'too_short', 'at least 8 characters')
    const patched = await m.t.request({
      method: 'PATCH',
      url: '/api/collections/_superusers',
      payload: { options: { passwordPolicy: { minLength: 30 } } },
    })
    expect(patched.statusCode, patched.body).toBe(200)
    const superusers = await m.t.request({
      method: 'GET',
      url: `/api/collections/_superusers/records?filter=${encodeURIComponent(`email = "${SUPERUSER_EMAIL}"`)}`,
    })
    const root = superusers.json().items[0].id
    expectRefused(
      await m.t.request({
        method: 'PATCH',
        url: `/api/collections/_superusers/records/${root}`,
        payload: passwordsOf(USER_PASSWORD),
      }),
      'too_short',
      'at least 30 characters',
    )
    const back = await m.t.request({
      method: 'PATCH',
      url: '/api/collections/_superusers',
      payload: { options: {} },
    })
    expect(back.statusCode, back.body).toBe(200)
  })
})
