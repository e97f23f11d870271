import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import {
  countTokens,
  createMailTestApp,
  type MailTestApp,
  post,
  signIn,
  signUp,
  USER_PASSWORD,
  userRecord,
} from '../../test-support/email-flows.js'

const injection = "' OR 1=1 --"

/** For every endpoint: bodies it must refuse with a 4xx problem, storing and sending nothing. */
const badBodies: Record<string, Array<{ name: string; payload: unknown; status?: number }>> = {
  'request-verification': [
    { name: 'no body', payload: undefined },
    { name: 'missing email', payload: {} },
    { name: 'wrong type', payload: { email: 42 } },
    { name: 'an array', payload: [{ email: 'ada@example.com' }] },
    { name: 'unknown field', payload: { email: 'ada@example.com', verified: true } },
    { name: 'not an address', payload: { email: injection } },
    { name: 'too long', payload: { email: `${'a'.repeat(250)}@example.com` } },
  ],
  'confirm-verification': [
    { name: 'missing token', payload: {} },
    { name: 'wrong type', payload: { token: ['x'] } },
    { name: 'unknown field', payload: { token: 'x', id: 'y' } },
    { name: 'injection', payload: { token: injection } },
    { name: 'too long', payload: { token: 'x'.repeat(201) } },
  ],
  'request-password-reset': [
    { name: 'missing email', payload: {} },
    { name: 'wrong type', payload: { email: null } },
    { name: 'unknown field', payload: { email: 'ada@example.com', password: 'x' } },
    { name: 'not an address', payload: { email: injection } },
  ],
  'confirm-password-reset': [
    { name: 'missing fields', payload: { token: 'x' } },
    { name: 'wrong type', payload: { token: 'x', password: 12345678, passwordConfirm: 12345678 } },
    {
      name: 'unknown field',
      payload: { token: 'x', password: 'p'.repeat(10), passwordConfirm: 'p'.repeat(10), email: 'a@b.co' },
    },
    { name: 'injection', payload: { token: injection, password: injection, passwordConfirm: injection } },
    {
      name: 'too long a password',
      payload: { token: 'x', password: 'p'.repeat(257), passwordConfirm: 'p'.repeat(257) },
    },
  ],
  'request-email-change': [{ name: 'anonymous', payload: { newEmail: 'ada@new.example' }, status: 401 }],
  'confirm-email-change': [
    { name: 'missing password', payload: { token: 'x' } },
    { name: 'wrong type', payload: { token: 1, password: 'x' } },
    { name: 'unknown field', payload: { token: 'x', password: 'x', newEmail: 'a@b.co' } },
    { name: 'injection', payload: { token: injection, password: injection } },
  ],
  'request-otp': [
    { name: 'missing email', payload: {} },
    { name: 'wrong type', payload: { email: { $ne: '' } } },
    { name: 'unknown field', payload: { email: 'ada@example.com', otpId: 'x' } },
    { name: 'not an address', payload: { email: injection } },
  ],
  'auth-with-otp': [
    { name: 'missing password', payload: { otpId: 'x' } },
    { name: 'wrong type', payload: { otpId: 'x', password: 123456 } },
    { name: 'unknown field', payload: { otpId: 'x', password: '123456', email: 'ada@example.com' } },
    { name: 'injection', payload: { otpId: injection, password: injection } },
    { name: 'too long a code', payload: { otpId: 'x', password: '1'.repeat(21) } },
  ],
}

const cases = Object.entries(badBodies).flatMap(([action, bodies]) =>
  bodies.map((body) => ({ action, ...body, status: body.status ?? 400 })),
)

describe.each(testDialects)('bad input to the email flows on %s', (kind) => {
  let m: MailTestApp
  let user: Record<string, any>
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind)
    user = await signUp(m.t, 'ada@example.com')
  })
  afterEach(async () => m?.close())

  async function expectNothingChanged() {
    expect(await countTokens(m.t)).toBe(0)
    const now = await userRecord(m.t, user.id)
    expect(now).toMatchObject({ email: 'ada@example.com', verified: false, updated: user.updated })
    await signIn(m.t, 'ada@example.com', USER_PASSWORD)
    await m.settle()
    expect(m.inbox.received).toHaveLength(0)
  }

  test.for(cases)(
    '$action: $name is a $status problem and changes nothing',
    async ({ action, payload, status }) => {
      const response = await post(m.t, action, payload)
      expect(response.statusCode, response.body).toBe(status)
      expect(response.headers['content-type']).toContain('application/problem+json')
      expect(response.json().status).toBe(status)
      await expectNothingChanged()
    },
  )

  test.for(Object.keys(badBodies))('%s: malformed JSON is a 400 problem', async (action) => {
    const response = await m.t.request({
      method: 'POST',
      url: `/api/collections/users/${action}`,
      headers: { 'content-type': 'application/json' },
      payload: '{"email": ',
      auth: null,
    })
    expect(response.statusCode).toBe(400)
    expect(response.json().type).toBe('urn:plinth:error:malformed_json')
    await expectNothingChanged()
  })

  test.for(Object.keys(badBodies))(
    '%s: a collection that is not an auth collection is a 404',
    async (action) => {
      await m.t.request({
        method: 'POST',
        url: '/api/collections',
        payload: { name: 'notes', createRule: '' },
      })
      const { token } = await signIn(m.t, 'ada@example.com')
      const valid: Record<string, object> = {
        'request-verification': { email: 'ada@example.com' },
        'confirm-verification': { token: 'x' },
        'request-password-reset': { email: 'ada@example.com' },
        'confirm-password-reset': { token: 'x', password: 'p'.repeat(10), passwordConfirm: 'p'.repeat(10) },
        'request-email-change': { newEmail: 'ada@new.example' },
        'confirm-email-change': { token: 'x', password: 'x' },
        'request-otp': { email: 'ada@example.com' },
        'auth-with-otp': { otpId: 'x', password: '123456' },
      }
      for (const collection of ['notes', 'missing']) {
        const response = await post(m.t, action, valid[action], token, collection)
        expect(response.statusCode).toBe(404)
        expect(response.headers['content-type']).toContain('application/problem+json')
      }
      await expectNothingChanged()
    },
  )

  test('an email change with another user’s session or a forged token changes nothing', async () => {
    await signUp(m.t, 'bob@example.com')
    const forged = await post(m.t, 'request-email-change', { newEmail: 'ada@new.example' }, 'a.b.c')
    expect(forged.statusCode).toBe(401)
    const { token } = await signIn(m.t, 'bob@example.com')
    const bobs = await post(m.t, 'request-email-change', { newEmail: 'ada@example.com' }, token)
    expect(bobs.statusCode).toBe(400)
    await expectNothingChanged()
  })
})
