import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import {
  comparable,
  createMailTestApp,
  type MailTestApp,
  post,
  signIn,
  signUp,
  tokenOf,
  USER_PASSWORD,
  userRecord,
} from '../../test-support/email-flows.js'

const NEW_PASSWORD = 'second password 2'

describe.each(testDialects)('password reset on %s', (kind) => {
  let m: MailTestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind)
  })
  afterEach(async () => {
    vi.useRealTimers()
    await m?.close()
  })
  const resetLink = () => `${m.t.config.publicUrl}/_/auth/confirm-password-reset`

  async function requestReset(email = 'ada@example.com'): Promise<string> {
    const response = await post(m.t, 'request-password-reset', { email })
    expect(response.statusCode, response.body).toBe(204)
    const mail = await m.inbox.next()
    expect(mail.to).toEqual([email])
    expect(mail.subject).toBe('Reset your Plinth password')
    return tokenOf(mail, resetLink())
  }

  test('a reset ends every session, sets the new password and proves the address', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    const phone = await signIn(m.t, 'ada@example.com')
    const laptop = await signIn(m.t, 'ada@example.com')
    const token = await requestReset()

    const confirm = await post(m.t, 'confirm-password-reset', {
      token,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    })
    expect(confirm.statusCode, confirm.body).toBe(204)

    for (const session of [phone, laptop]) {
      const refresh = await post(m.t, 'auth-refresh', { refreshToken: session.refreshToken })
      expect(refresh.statusCode).toBe(401)
    }
    // Access tokens are checked against these rows, through a cache of at most a second.
    const sessions = await m.t.app.plinth.dialect.db
      .selectFrom('_sessions')
      .select(['revoked'])
      .where('record_id', '=', user.id)
      .execute()
    expect(sessions).toHaveLength(2)
    expect(sessions.every((s) => s.revoked !== null)).toBe(true)

    expect(
      (await post(m.t, 'auth-with-password', { identity: 'ada@example.com', password: USER_PASSWORD }))
        .statusCode,
    ).toBe(400)
    const fresh = await signIn(m.t, 'ada@example.com', NEW_PASSWORD)
    expect(fresh.record.verified).toBe(true)

    expect(
      (
        await post(m.t, 'confirm-password-reset', {
          token,
          password: NEW_PASSWORD,
          passwordConfirm: NEW_PASSWORD,
        })
      ).statusCode,
    ).toBe(400)
    const audit = await m.t.request({
      method: 'GET',
      url: `/api/audit?event=password_reset&recordId=${user.id}`,
    })
    expect(audit.json().totalItems).toBe(1)
  })

  const weakPasswords = [
    { name: 'too short', password: 'short', passwordConfirm: 'short', field: 'password' },
    {
      name: 'the email address',
      password: 'Ada@Example.com',
      passwordConfirm: 'Ada@Example.com',
      field: 'password',
    },
    {
      name: 'a confirmation that differs',
      password: NEW_PASSWORD,
      passwordConfirm: 'something else',
      field: 'passwordConfirm',
    },
  ]
  test.for(weakPasswords)(
    'a new password that is $name is refused and the link stays usable',
    async ({ password, passwordConfirm, field }) => {
      const user = await signUp(m.t, 'ada@example.com')
      const session = await signIn(m.t, 'ada@example.com')
      const token = await requestReset()
      const refused = await post(m.t, 'confirm-password-reset', { token, password, passwordConfirm })
      expect(refused.statusCode).toBe(400)
      expect(refused.headers['content-type']).toContain('application/problem+json')
      expect(refused.json().errors[field]).toBeDefined()
      expect((await post(m.t, 'auth-refresh', { refreshToken: session.refreshToken })).statusCode).toBe(200)
      await signIn(m.t, 'ada@example.com')
      expect((await userRecord(m.t, user.id)).verified).toBe(false)
      const retry = await post(m.t, 'confirm-password-reset', {
        token,
        password: NEW_PASSWORD,
        passwordConfirm: NEW_PASSWORD,
      })
      expect(retry.statusCode, retry.body).toBe(204)
    },
  )

  test('a reset link expires after one hour', async () => {
    await signUp(m.t, 'ada@example.com')
    const token = await requestReset()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 3600 * 1000 + 1000)
    const confirm = await post(m.t, 'confirm-password-reset', {
      token,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    })
    expect(confirm.statusCode).toBe(400)
    vi.useRealTimers()
    await signIn(m.t, 'ada@example.com')
  })

  test('a token is good for its own purpose and collection only', async () => {
    await signUp(m.t, 'ada@example.com')
    const resetToken = await requestReset()
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const verifyToken = tokenOf(await m.inbox.next(), `${m.t.config.publicUrl}/_/auth/confirm-verification`)
    await m.t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'members', type: 'auth', createRule: '' },
    })

    const withVerifyToken = await post(m.t, 'confirm-password-reset', {
      token: verifyToken,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    })
    expect(withVerifyToken.statusCode).toBe(400)
    expect((await post(m.t, 'confirm-verification', { token: resetToken })).statusCode).toBe(400)
    const otherCollection = await post(
      m.t,
      'confirm-password-reset',
      { token: resetToken, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
      null,
      'members',
    )
    expect(otherCollection.statusCode).toBe(400)
    const superusers = await post(
      m.t,
      'confirm-password-reset',
      { token: resetToken, password: NEW_PASSWORD, passwordConfirm: NEW_PASSWORD },
      null,
      '_superusers',
    )
    expect(superusers.statusCode).toBe(400)
    await signIn(m.t, 'ada@example.com')
    const confirm = await post(m.t, 'confirm-password-reset', {
      token: resetToken,
      password: NEW_PASSWORD,
      passwordConfirm: NEW_PASSWORD,
    })
    expect(confirm.statusCode).toBe(204)
  })

  test('known and unknown addresses get identical answers, and only the known one gets mail', async () => {
    await signUp(m.t, 'ada@example.com')
    const known = comparable(await post(m.t, 'request-password-reset', { email: 'ada@example.com' }))
    const unknown = comparable(await post(m.t, 'request-password-reset', { email: 'nobody@example.com' }))
    expect(known).toEqual({ status: 204, type: null, body: '' })
    expect(unknown).toEqual(known)
    await m.settle()
    expect(m.inbox.received.map((mail) => mail.to)).toEqual([['ada@example.com']])
  })

  test('two confirmations racing with one token: exactly one wins', async () => {
    await signUp(m.t, 'ada@example.com')
    const token = await requestReset()
    const answers = await Promise.all(
      ['third password 3', 'fourth password 4'].map((password) =>
        post(m.t, 'confirm-password-reset', { token, password, passwordConfirm: password }),
      ),
    )
    expect(answers.map((a) => a.statusCode).sort()).toEqual([204, 400])
  })
})
