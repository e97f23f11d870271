import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import {
  comparable,
  countTokens,
  createMailTestApp,
  type MailTestApp,
  post,
  signIn,
  signUp,
  tokenOf,
  userRecord,
} from '../../test-support/email-flows.js'

describe.each(testDialects)('email verification on %s', (kind) => {
  let m: MailTestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(kind, { appName: 'Acme' })
  })
  afterEach(async () => {
    vi.useRealTimers()
    await m?.close()
  })
  const verifyLink = () => `${m.t.config.publicUrl}/_/auth/confirm-verification`

  test('sign-up, the mail from the SMTP peer, confirm: the record is verified, once', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    expect(user.verified).toBe(false)
    const request = await post(m.t, 'request-verification', { email: ' Ada@Example.com ' })
    expect(request.statusCode, request.body).toBe(204)
    expect(request.body).toBe('')

    const mail = await m.inbox.next()
    expect(mail.to).toEqual(['ada@example.com'])
    expect(mail.subject).toBe('Verify your email address for Acme')
    const token = tokenOf(mail, verifyLink())
    expect(mail.html).toContain(`${verifyLink()}#token=${token}&amp;collection=users`)

    const confirm = await post(m.t, 'confirm-verification', { token })
    expect(confirm.statusCode, confirm.body).toBe(204)
    expect((await userRecord(m.t, user.id)).verified).toBe(true)
    const { record } = await signIn(m.t, 'ada@example.com')
    expect(record.verified).toBe(true)

    const again = await post(m.t, 'confirm-verification', { token })
    expect(again.statusCode).toBe(400)
    expect(again.headers['content-type']).toContain('application/problem+json')
    expect(again.json().errors.token.code).toBe('invalid_token')

    const audit = await m.t.request({ method: 'GET', url: `/api/audit?event=verified&recordId=${user.id}` })
    expect(audit.json().totalItems).toBe(1)
  })

  test('only the newest link works: a new request spends the older one', async () => {
    await signUp(m.t, 'ada@example.com')
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const first = tokenOf(await m.inbox.next(), verifyLink())
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const second = tokenOf(await m.inbox.next(), verifyLink())
    expect((await post(m.t, 'confirm-verification', { token: first })).statusCode).toBe(400)
    expect((await post(m.t, 'confirm-verification', { token: second })).statusCode).toBe(204)
  })

  test('a link expires after 72 hours', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const token = tokenOf(await m.inbox.next(), verifyLink())
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 72 * 3600 * 1000 + 1000)
    const confirm = await post(m.t, 'confirm-verification', { token })
    expect(confirm.statusCode).toBe(400)
    expect(confirm.json().errors.token.code).toBe('invalid_token')
    vi.useRealTimers()
    expect((await userRecord(m.t, user.id)).verified).toBe(false)
  })

  test('a link just inside its lifetime still works', async () => {
    await signUp(m.t, 'ada@example.com')
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const token = tokenOf(await m.inbox.next(), verifyLink())
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 71 * 3600 * 1000)
    expect((await post(m.t, 'confirm-verification', { token })).statusCode).toBe(204)
  })

  test('a link sent to an address the record no longer has proves nothing', async () => {
    const user = await signUp(m.t, 'ada@example.com')
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const token = tokenOf(await m.inbox.next(), verifyLink())
    await m.t.app.plinth.dialect.db
      .updateTable('users')
      .set({ email: 'other@example.com' })
      .where('id', '=', user.id)
      .execute()
    expect((await post(m.t, 'confirm-verification', { token })).statusCode).toBe(400)
  })

  test('unknown, verified and unverified addresses get the same answer; only the unverified one gets mail', async () => {
    await signUp(m.t, 'ada@example.com')
    const bob = await signUp(m.t, 'bob@example.com')
    await m.t.request({
      method: 'PATCH',
      url: `/api/collections/users/records/${bob.id}`,
      payload: { verified: true },
    })
    const answers = await Promise.all(
      ['ada@example.com', 'bob@example.com', 'nobody@example.com'].map(async (email) =>
        comparable(await post(m.t, 'request-verification', { email })),
      ),
    )
    expect(answers[0]).toEqual({ status: 204, type: null, body: '' })
    expect(answers[1]).toEqual(answers[0])
    expect(answers[2]).toEqual(answers[0])
    await m.settle()
    expect(m.inbox.received.map((mail) => mail.to)).toEqual([['ada@example.com']])
  })

  test('decoys left for unknown addresses never verify anything', async () => {
    await post(m.t, 'request-verification', { email: 'nobody@example.com' })
    expect(await countTokens(m.t)).toBe(1)
    const rows = await m.t.app.plinth.dialect.db.selectFrom('_auth_tokens').selectAll().execute()
    expect(rows[0]).toMatchObject({ record_id: null, purpose: 'verification' })
    expect(rows[0]!.expires <= new Date().toISOString()).toBe(true)
  })
})
