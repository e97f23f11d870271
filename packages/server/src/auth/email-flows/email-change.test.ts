import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import {
  countTokens,
  createMailTestApp,
  type MailTestApp,
  post,
  signIn,
  signUp,
  tokenOf,
  USER_PASSWORD,
  userRecord,
} from '../../test-support/email-flows.js'

describe.each(testDialects)('email change on %s', (kind) => {
  let m: MailTestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind)
  })
  afterEach(async () => {
    vi.useRealTimers()
    await m?.close()
  })
  const changeLink = () => `${m.t.config.publicUrl}/_/auth/confirm-email-change`

  async function requestChange(token: string, newEmail = 'ada@new.example'): Promise<string> {
    const response = await post(m.t, 'request-email-change', { newEmail }, token)
    expect(response.statusCode, response.body).toBe(204)
    const mail = await m.inbox.next()
    expect(mail.to).toEqual([newEmail.trim().toLowerCase()])
    return tokenOf(mail, changeLink())
  }

  test('the link goes to the new address; the password confirms; every session ends', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    const session = await signIn(m.t, 'ada@example.com')
    const token = await requestChange(session.token, ' Ada@New.Example ')

    const wrong = await post(m.t, 'confirm-email-change', { token, password: 'not my password' })
    expect(wrong.statusCode).toBe(400)
    expect(wrong.json().errors.password.code).toBe('invalid_password')
    expect((await userRecord(m.t, user.id)).email).toBe('ada@example.com')

    const confirm = await post(m.t, 'confirm-email-change', { token, password: USER_PASSWORD })
    expect(confirm.statusCode, confirm.body).toBe(204)
    const record = await userRecord(m.t, user.id)
    expect(record).toMatchObject({ email: 'ada@new.example', verified: true })
    expect(record.updated > user.updated).toBe(true)
    expect((await post(m.t, 'auth-refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401)
    expect(
      (await post(m.t, 'auth-with-password', { identity: 'ada@example.com', password: USER_PASSWORD }))
        .statusCode,
    ).toBe(400)
    await signIn(m.t, 'ada@new.example')

    expect((await post(m.t, 'confirm-email-change', { token, password: USER_PASSWORD })).statusCode).toBe(400)
    const audit = await m.t.request({
      method: 'GET',
      url: `/api/audit?event=email_changed&recordId=${user.id}`,
    })
    expect(audit.json().totalItems).toBe(1)
  })

  test('asking needs a session of this collection', async () => {
    await signUp(m.t, 'ada@example.com')
    await m.t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'members', type: 'auth', createRule: '' },
    })
    const anonymous = await post(m.t, 'request-email-change', { newEmail: 'x@new.example' })
    expect(anonymous.statusCode).toBe(401)
    const superuser = await post(m.t, 'request-email-change', { newEmail: 'x@new.example' }, m.t.token)
    expect(superuser.statusCode).toBe(401)
    const { token } = await signIn(m.t, 'ada@example.com')
    const otherCollection = await post(
      m.t,
      'request-email-change',
      { newEmail: 'x@new.example' },
      token,
      'members',
    )
    expect(otherCollection.statusCode).toBe(401)
    expect(await countTokens(m.t)).toBe(0)
  })

  test('an address in use or unchanged is a 400 for the signed-in user, and nothing is sent', async () => {
    await signUp(m.t, 'ada@example.com')
    await signUp(m.t, 'bob@example.com')
    const { token } = await signIn(m.t, 'ada@example.com')
    const taken = await post(m.t, 'request-email-change', { newEmail: 'BOB@example.com' }, token)
    expect(taken.statusCode).toBe(400)
    expect(taken.json().errors.newEmail.code).toBe('not_unique')
    const same = await post(m.t, 'request-email-change', { newEmail: 'ada@example.com' }, token)
    expect(same.statusCode).toBe(400)
    expect(same.json().errors.newEmail.code).toBe('unchanged')
    const invalid = await post(m.t, 'request-email-change', { newEmail: 'not an address' }, token)
    expect(invalid.statusCode).toBe(400)
    expect(invalid.json().errors.newEmail.code).toBe('invalid_email')
    expect(await countTokens(m.t)).toBe(0)
    await m.settle()
    expect(m.inbox.received).toHaveLength(0)
  })

  test('an address taken between request and confirm is a 400 naming email, and the link stays usable', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    const { token: session } = await signIn(m.t, 'ada@example.com')
    const token = await requestChange(session)
    const squatter = await signUp(m.t, 'ada@new.example')
    const conflict = await post(m.t, 'confirm-email-change', { token, password: USER_PASSWORD })
    expect(conflict.statusCode).toBe(400)
    expect(conflict.json().errors.email.code).toBe('not_unique')
    expect((await userRecord(m.t, user.id)).email).toBe('ada@example.com')
    await m.t.request({ method: 'DELETE', url: `/api/collections/users/records/${squatter.id}` })
    expect((await post(m.t, 'confirm-email-change', { token, password: USER_PASSWORD })).statusCode).toBe(204)
  })

  test('the link expires after one hour', async () => {
    await signUp(m.t, 'ada@example.com')
    const { token: session } = await signIn(m.t, 'ada@example.com')
    const token = await requestChange(session)
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 3600 * 1000 + 1000)
    expect((await post(m.t, 'confirm-email-change', { token, password: USER_PASSWORD })).statusCode).toBe(400)
  })

  test('wrong passwords count toward the sign-in lockout of the address', async () => {
    await signUp(m.t, 'ada@example.com')
    const { token: session } = await signIn(m.t, 'ada@example.com')
    const token = await requestChange(session)
    for (let i = 0; i < 10; i++)
      expect((await post(m.t, 'confirm-email-change', { token, password: `guess ${i}` })).statusCode).toBe(
        400,
      )
    const locked = await post(m.t, 'confirm-email-change', { token, password: USER_PASSWORD })
    expect(locked.statusCode).toBe(429)
    expect(locked.headers['retry-after']).toBeDefined()
  })
})
