import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { SmtpInbox } from '../test-support/smtp-inbox.js'

const SMTP_PASSWORD = 'smtp-password-never-shown'
const METRICS_TOKEN = 'metrics-token-never-shown-0123456789'

const badBodies = [
  { name: 'no email', body: '{}' },
  { name: 'an email of the wrong type', body: '{"email":42}' },
  { name: 'two addresses', body: '{"email":"a@example.com, b@example.com"}' },
  { name: 'a header in the address', body: '{"email":"a@example.com\\r\\nBcc: b@example.com"}' },
  { name: 'an unknown template', body: '{"email":"a@example.com","template":"welcome"}' },
  { name: 'a __proto__ template', body: '{"email":"a@example.com","template":"__proto__"}' },
  { name: 'an unknown key', body: '{"email":"a@example.com","cc":"b@example.com"}' },
  { name: 'a __proto__ key', body: '{"email":"a@example.com","__proto__":{"template":"otp"}}' },
  {
    name: 'a constructor collection',
    body: '{"email":"a@example.com","template":"otp","collection":"constructor"}',
  },
  { name: 'a base collection', body: '{"email":"a@example.com","template":"otp","collection":"notes"}' },
  {
    name: 'SQL in the collection',
    body: `{"email":"a@example.com","template":"otp","collection":"x' or 1=1"}`,
  },
  { name: 'malformed JSON', body: '{"email":' },
  { name: 'a list', body: '["a@example.com"]' },
]

describe.each(testDialects)('/api/settings on %s', (kind) => {
  let t: TestApp
  let inbox: SmtpInbox
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    inbox = await SmtpInbox.start({
      allowInsecureAuth: true,
      onAuth(_auth, _session, callback) {
        callback(null, { user: 'plinth' })
      },
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('refused@')) callback(new Error('mailbox unavailable'))
        else callback()
      },
    })
    const smtp = new URL(inbox.url)
    smtp.username = 'plinth'
    smtp.password = SMTP_PASSWORD
    t = await createTestApp(kind, {
      smtpUrl: smtp.toString(),
      appName: 'Acme',
      metrics: { token: METRICS_TOKEN, cacheMs: 1000 },
    })
  })
  afterEach(async () => {
    await t?.close()
    await inbox?.close()
  })

  const sendTest = (body: object | string) =>
    t.request({
      method: 'POST',
      url: '/api/settings/test/email',
      ...(typeof body === 'string'
        ? { body, headers: { 'content-type': 'application/json' } }
        : { payload: body }),
    })

  test('answers the effective configuration with secrets only as set or not', async () => {
    const answer = await t.request({ method: 'GET', url: '/api/settings' })
    expect(answer.statusCode, answer.body).toBe(200)
    const settings = answer.json()
    expect(settings.app).toMatchObject({ name: 'Acme' })
    expect(settings.database.dialect).toBe(kind)
    expect(settings.database.url).toEqual({ isSet: kind === 'postgres' })
    expect(settings.mail).toMatchObject({ smtp: { isSet: true } })
    expect(settings.metrics.token).toEqual({ isSet: true })
    expect(settings.auth.secretFromEnvironment).toEqual({ isSet: true })
    expect(settings.cluster.redis).toEqual({ isSet: false })
    for (const secret of [SMTP_PASSWORD, METRICS_TOKEN, t.config.secret!, 'smtp://'])
      expect(answer.body).not.toContain(secret)
    if (t.config.databaseUrl) expect(answer.body).not.toContain(t.config.databaseUrl)
  })

  test('sends a test mail through the mail server and answers 204', async () => {
    const answer = await sendTest({ email: 'ada@example.com' })
    expect(answer.statusCode, answer.body).toBe(204)
    const mail = await inbox.next()
    expect(mail.to).toEqual(['ada@example.com'])
    expect(mail.subject).toBe('Test mail from Acme')
  })

  test('a test of a template uses the auth collection’s own template', async () => {
    await createCollection(t, {
      name: 'users',
      type: 'auth',
      options: { mailTemplates: { otp: { subject: 'Your {{APP_NAME}} code is {{CODE}}' } } },
    })
    expect(
      (await sendTest({ email: 'ada@example.com', template: 'otp', collection: 'users' })).statusCode,
    ).toBe(204)
    expect((await inbox.next()).subject).toBe('Your Acme code is 000000')
    expect((await sendTest({ email: 'ada@example.com', template: 'passwordReset' })).statusCode).toBe(204)
    expect((await inbox.next()).subject).toBe('Reset your Acme password')
  })

  test('a mail the server refuses is a 502 saying so', async () => {
    const answer = await sendTest({ email: 'refused@example.com' })
    expect(answer.statusCode).toBe(502)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    expect(answer.json().type).toBe('urn:plinth:error:mail_failed')
    expect(answer.json().detail).toContain('mailbox unavailable')
    expect(answer.body).not.toContain(SMTP_PASSWORD)
  })

  test.for(badBodies)('$name is a 4xx problem, and no mail is sent', async ({ body }) => {
    await createCollection(t, { name: 'notes', fields: [{ name: 'text', type: 'text' }] })
    const answer = await sendTest(body)
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    expect(await sendTest({ email: 'after@example.com' })).toMatchObject({ statusCode: 204 })
    expect((await inbox.next()).to).toEqual(['after@example.com'])
  })

  test('a huge body is a 413 and unknown query parameters a 400', async () => {
    expect((await sendTest({ email: `${'a'.repeat(2 * 1024 * 1024)}@example.com` })).statusCode).toBe(413)
    expect((await t.request({ method: 'GET', url: '/api/settings?secrets=1' })).statusCode).toBe(400)
    expect(inbox.received).toEqual([])
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    for (const [method, url, payload] of [
      ['GET', '/api/settings', undefined],
      ['GET', '/api/settings?nope=1', undefined],
      ['POST', '/api/settings/test/email', { email: 'ada@example.com' }],
      ['POST', '/api/settings/test/email', { nope: 1 }],
    ] as const) {
      expect((await t.request({ method, url, payload, auth: null })).statusCode, `${method} ${url}`).toBe(401)
      expect((await t.request({ method, url, payload, auth: user })).statusCode, `${method} ${url}`).toBe(403)
    }
    expect(inbox.received).toEqual([])
  })
})
