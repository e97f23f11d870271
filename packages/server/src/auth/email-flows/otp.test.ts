import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import {
  codeOf,
  createMailTestApp,
  type MailTestApp,
  post,
  signUp,
  userRecord,
} from '../../test-support/email-flows.js'

describe.each(testDialects)('sign-in with a one-time code on %s', (kind) => {
  let m: MailTestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind)
  })
  afterEach(async () => {
    vi.useRealTimers()
    await m?.close()
  })

  async function requestOtp(email = 'ada@example.com'): Promise<{ otpId: string; code: string }> {
    const response = await post(m.t, 'request-otp', { email })
    expect(response.statusCode, response.body).toBe(200)
    const { otpId } = response.json()
    const mail = await m.inbox.next()
    expect(mail.to).toEqual([email])
    expect(mail.subject).toMatch(/^Your Plinth sign-in code: \d{6}$/)
    return { otpId, code: codeOf(mail) }
  }

  test('the code from the mail signs in once and marks the address verified', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    const { otpId, code } = await requestOtp()
    expect(code).toMatch(/^\d{6}$/)
    const signIn = await post(m.t, 'auth-with-otp', { otpId, password: code })
    expect(signIn.statusCode, signIn.body).toBe(200)
    const body = signIn.json()
    expect(body.record).toMatchObject({ id: user.id, verified: true })
    const me = await m.t.request({
      method: 'GET',
      url: `/api/collections/users/records/${user.id}`,
      auth: body.token,
    })
    expect(me.statusCode).toBe(200)
    expect((await post(m.t, 'auth-refresh', { refreshToken: body.refreshToken })).statusCode).toBe(200)

    const again = await post(m.t, 'auth-with-otp', { otpId, password: code })
    expect(again.statusCode).toBe(400)
    expect(again.json().type).toBe('urn:plinth:error:invalid_credentials')
    const audit = await m.t.request({ method: 'GET', url: `/api/audit?event=sign_in&recordId=${user.id}` })
    expect(audit.json().items[0].detail).toEqual({ method: 'otp' })
  })

  test('five wrong codes spend the OTP: the right one is refused after them', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    const { otpId, code } = await requestOtp()
    const wrong = code === '000000' ? '000001' : '000000'
    for (let i = 0; i < 5; i++)
      expect((await post(m.t, 'auth-with-otp', { otpId, password: wrong })).statusCode).toBe(400)
    const late = await post(m.t, 'auth-with-otp', { otpId, password: code })
    expect(late.statusCode).toBe(400)
    expect((await userRecord(m.t, user.id)).verified).toBe(false)
  })

  test('concurrent guesses cannot outrun the limit of five', async () => {
    await signUp(m.t, 'ada@example.com')
    const { otpId, code } = await requestOtp()
    const guesses = Array.from({ length: 12 }, (_, i) =>
      String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'),
    )
    await Promise.all(guesses.map((password) => post(m.t, 'auth-with-otp', { otpId, password })))
    const row = await m.t.app.plinth.dialect.db
      .selectFrom('_auth_tokens')
      .select(['attempts'])
      .executeTakeFirstOrThrow()
    expect(Number(row.attempts)).toBe(5)
    expect((await post(m.t, 'auth-with-otp', { otpId, password: code })).statusCode).toBe(400)
  })

  test('a code expires after 10 minutes', async () => {
    await signUp(m.t, 'ada@example.com')
    const { otpId, code } = await requestOtp()
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 600 * 1000 + 1000)
    expect((await post(m.t, 'auth-with-otp', { otpId, password: code })).statusCode).toBe(400)
  })

  test('a new code spends the older one', async () => {
    await signUp(m.t, 'ada@example.com')
    const first = await requestOtp()
    const second = await requestOtp()
    expect((await post(m.t, 'auth-with-otp', { otpId: first.otpId, password: first.code })).statusCode).toBe(
      400,
    )
    expect(
      (await post(m.t, 'auth-with-otp', { otpId: second.otpId, password: second.code })).statusCode,
    ).toBe(200)
  })

  test('an unknown address gets an otpId just like a known one, and no code can use it', async () => {
    await signUp(m.t, 'ada@example.com')
    const known = await post(m.t, 'request-otp', { email: 'ada@example.com' })
    const unknown = await post(m.t, 'request-otp', { email: 'nobody@example.com' })
    expect(unknown.statusCode).toBe(known.statusCode)
    expect(unknown.headers['content-type']).toBe(known.headers['content-type'])
    expect(Object.keys(unknown.json())).toEqual(['otpId'])
    expect(unknown.json().otpId).toHaveLength(known.json().otpId.length)

    const guessUnknown = await post(m.t, 'auth-with-otp', { otpId: unknown.json().otpId, password: '123456' })
    const guessKnown = await post(m.t, 'auth-with-otp', { otpId: known.json().otpId, password: 'abcdef' })
    const made = await post(m.t, 'auth-with-otp', { otpId: 'made-up-otp-id', password: '123456' })
    for (const answer of [guessKnown, made]) {
      expect(answer.statusCode).toBe(guessUnknown.statusCode)
      expect({ ...answer.json(), instance: '' }).toEqual({ ...guessUnknown.json(), instance: '' })
    }
    await m.settle()
    expect(m.inbox.received.map((mail) => mail.to)).toEqual([['ada@example.com']])
  })

  test('wrong codes count toward the lockout of the address, known or not', async () => {
    await signUp(m.t, 'ada@example.com')
    for (const email of ['ada@example.com', 'nobody@example.com']) {
      for (let round = 0; round < 2; round++) {
        const { otpId } = (await post(m.t, 'request-otp', { email })).json()
        for (let i = 0; i < 5; i++) await post(m.t, 'auth-with-otp', { otpId, password: 'abcdef' })
      }
      const locked = await post(m.t, 'request-otp', { email })
      expect(locked.statusCode).toBe(429)
      expect(locked.headers['retry-after']).toBeDefined()
    }
  })

  test('a collection without options.otp.enabled refuses both steps', async () => {
    await m.t.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'members', type: 'auth', createRule: '' },
    })
    const request = await post(m.t, 'request-otp', { email: 'ada@example.com' }, null, 'members')
    expect(request.statusCode).toBe(400)
    expect(request.json().detail).toContain('not enabled')
    const auth = await post(m.t, 'auth-with-otp', { otpId: 'x', password: '123456' }, null, 'members')
    expect(auth.statusCode).toBe(400)
  })
})
