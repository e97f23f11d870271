import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { type CollectionDefinition, mailKinds } from '../../collections/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import {
  createMailTestApp,
  type MailTestApp,
  post,
  signUp,
  tokenOf,
  usersDefinition,
} from '../../test-support/email-flows.js'
import { linkBase } from './links.js'
import { defaultTemplates, renderTemplate, templateFor } from './templates.js'

const values = {
  APP_NAME: 'A&B <Labs>',
  APP_URL: 'https://acme.example',
  LINK: 'https://acme.example/_/auth/confirm-verification#token=t0k&collection=users',
  TOKEN: 't0k',
  CODE: '123456',
  EMAIL: '{{LINK}}@example.com',
}

function withOptions(options: Record<string, unknown>): CollectionDefinition {
  return { name: 'users', options } as unknown as CollectionDefinition
}

describe('mail templates', () => {
  test('every kind has a default that uses its secret', () => {
    for (const kind of mailKinds) {
      const { text, html, subject } = defaultTemplates[kind]
      const secret = kind === 'otp' ? '{{CODE}}' : '{{LINK}}'
      expect(text).toContain(secret)
      expect(html).toContain(secret)
      expect(subject).toContain('{{APP_NAME}}')
    }
  })

  test('values are HTML-escaped in HTML only, and never expanded twice', () => {
    const mail = renderTemplate(
      {
        subject: '{{APP_NAME}}\r\nBcc: x@y.z',
        text: '{{APP_NAME}} {{EMAIL}}',
        html: '<p>{{APP_NAME}}</p><a href="{{LINK}}">',
      },
      values,
    )
    expect(mail.text).toBe('A&B <Labs> {{LINK}}@example.com')
    expect(mail.html).toBe(
      '<p>A&amp;B &lt;Labs&gt;</p><a href="https://acme.example/_/auth/confirm-verification#token=t0k&amp;collection=users">',
    )
    expect(mail.subject).toBe('A&B <Labs> Bcc: x@y.z')
  })

  test('unknown placeholders stay as written; spaces inside braces are allowed', () => {
    expect(renderTemplate({ subject: '{{ CODE }} {{OTHER}}', text: '', html: '' }, values).subject).toBe(
      '123456 {{OTHER}}',
    )
  })

  test('a collection overrides parts of a template; the rest stays default', () => {
    const template = templateFor(withOptions({ mailTemplates: { otp: { subject: 'Code {{CODE}}' } } }), 'otp')
    expect(template).toEqual({ ...defaultTemplates.otp, subject: 'Code {{CODE}}' })
    expect(templateFor(withOptions({}), 'verification')).toBe(defaultTemplates.verification)
  })
})

describe('link bases', () => {
  test("Plinth's own page unless the collection names one", () => {
    expect(linkBase(withOptions({}), 'passwordReset', 'http://h:1')).toBe(
      'http://h:1/_/auth/confirm-password-reset',
    )
    expect(
      linkBase(
        withOptions({ mailLinks: { passwordReset: 'https://app.example/reset' } }),
        'passwordReset',
        'http://h:1',
      ),
    ).toBe('https://app.example/reset')
  })
})

describe.each(testDialects)('templates and links through the API on %s', (kind) => {
  let m: MailTestApp
  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    m = await createMailTestApp(
      kind,
      { appName: 'A&B <Labs>' },
      {
        ...usersDefinition,
        options: {
          otp: { enabled: true, length: 8 },
          mailTemplates: {
            verification: {
              subject: 'Welcome to {{APP_NAME}}',
              html: '<p>{{APP_NAME}} {{EMAIL}} <a href="{{LINK}}">go</a></p>',
            },
            otp: { text: 'Code: {{CODE}}\n' },
          },
          mailLinks: { verification: 'https://app.example/verify' },
        },
      },
    )
  })
  afterEach(async () => m?.close())

  test('a custom template and link base reach the mail, escaped in its HTML', async () => {
    await signUp(m.t, 'ada@example.com')
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    const mail = await m.inbox.next()
    expect(mail.subject).toBe('Welcome to A&B <Labs>')
    const token = tokenOf(mail, 'https://app.example/verify')
    expect(mail.html).toBe(
      `<p>A&amp;B &lt;Labs&gt; ada@example.com <a href="https://app.example/verify#token=${token}&amp;collection=users">go</a></p>`,
    )
    expect((await post(m.t, 'confirm-verification', { token })).statusCode).toBe(204)
  })

  test('the code length follows options.otp.length', async () => {
    await signUp(m.t, 'ada@example.com')
    await post(m.t, 'request-otp', { email: 'ada@example.com' })
    const mail = await m.inbox.next()
    expect(mail.text.trim()).toMatch(/^Code: \d{8}$/)
  })

  test('a link base that is not http(s) is refused when saved, and the mails keep the stored one', async () => {
    await signUp(m.t, 'ada@example.com')
    const patched = await m.t.request({
      method: 'PATCH',
      url: '/api/collections/users',
      payload: { options: { mailLinks: { verification: 'javascript:alert(1)' } } },
    })
    expect(patched.statusCode).toBe(400)
    expect(patched.json().errors['options.mailLinks.verification'].code).toBe('invalid_value')
    await post(m.t, 'request-verification', { email: 'ada@example.com' })
    tokenOf(await m.inbox.next(), 'https://app.example/verify')
  })
})
