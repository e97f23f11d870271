import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach, describe, expect, test } from 'vitest'
import { loadConfig } from '../config/index.js'
import { SmtpInbox } from '../test-support/smtp-inbox.js'
import { createMailer, DevMailbox, SmtpMailer } from './index.js'

/** A pino logger whose lines land in an array. */
function capturedLog() {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)))
      callback()
    },
  })
  return { log: pino({ level: 'info' }, stream), lines }
}

const mail = {
  to: 'ada@example.com',
  subject: 'Verify your email address',
  text: 'Open http://127.0.0.1:8090/_/auth/confirm-verification#token=abc&collection=users',
  html: '<p>html</p>',
}

describe('the development mailbox', () => {
  test('without an SMTP URL, mails go to the log, marked as not sent, after a start-up warning', async () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({ smtpUrl: null, mailFrom: 'Plinth <no-reply@localhost>' }, log)
    expect(mailer).toBeInstanceOf(DevMailbox)
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 40 })
    expect(lines[0]!.msg).toContain('PLINTH_SMTP_URL is not set')
    await mailer.send(mail)
    expect(lines).toHaveLength(2)
    expect(lines[1]).toMatchObject({
      level: 30,
      devMailbox: { to: mail.to, subject: mail.subject, text: mail.text },
    })
    expect(lines[1]!.msg).toContain('development mailbox')
    expect(lines[1]!.devMailbox).not.toHaveProperty('html')
  })

  test('with an SMTP URL nothing is logged', () => {
    const { log, lines } = capturedLog()
    const mailer = createMailer({ smtpUrl: 'smtp://127.0.0.1:2525', mailFrom: 'a@b.example' }, log)
    expect(mailer).toBeInstanceOf(SmtpMailer)
    expect(lines).toHaveLength(0)
  })
})

describe('the SMTP mailer', () => {
  let inbox: SmtpInbox | undefined
  afterEach(async () => inbox?.close())

  test('delivers to a real SMTP server, signing in with the credentials of the URL', async () => {
    const logins: Array<{ username?: string | null; password?: string | null }> = []
    inbox = await SmtpInbox.start({
      allowInsecureAuth: true,
      onAuth(auth, _session, callback) {
        logins.push({ username: auth.username, password: auth.password })
        callback(null, { user: auth.username })
      },
    })
    const mailer = new SmtpMailer(
      `smtp://mailer:s3cret@127.0.0.1:${inbox.port}`,
      'Plinth <no-reply@plinth.test>',
    )
    await mailer.send(mail)
    const received = await inbox.next()
    await mailer.close()
    expect(logins).toEqual([{ username: 'mailer', password: 's3cret' }])
    expect(received.from).toBe('no-reply@plinth.test')
    expect(received.to).toEqual(['ada@example.com'])
    expect(received.subject).toBe(mail.subject)
    expect(received.text.trim()).toBe(mail.text)
    expect(received.html.trim()).toBe(mail.html)
  })

  test('a refused delivery rejects', async () => {
    inbox = await SmtpInbox.start({
      onRcptTo(_address, _session, callback) {
        callback(new Error('no such mailbox'))
      },
    })
    const mailer = new SmtpMailer(inbox.url, 'no-reply@plinth.test')
    await expect(mailer.send(mail)).rejects.toThrow(/no such mailbox/)
    await mailer.close()
  })
})

describe('mail configuration', () => {
  test('reads PLINTH_SMTP_URL, PLINTH_MAIL_FROM and PLINTH_APP_NAME, with defaults', () => {
    expect(loadConfig({})).toMatchObject({
      smtpUrl: null,
      mailFrom: 'Plinth <no-reply@localhost>',
      appName: 'Plinth',
    })
    expect(
      loadConfig({
        PLINTH_SMTP_URL: 'smtps://u:p@mail.example.com:465',
        PLINTH_MAIL_FROM: 'Acme <hi@acme.example>',
        PLINTH_APP_NAME: 'Acme',
      }),
    ).toMatchObject({
      smtpUrl: 'smtps://u:p@mail.example.com:465',
      mailFrom: 'Acme <hi@acme.example>',
      appName: 'Acme',
    })
  })

  test.each([
    ['PLINTH_SMTP_URL', 'http://mail.example.com'],
    ['PLINTH_SMTP_URL', 'not a url'],
    ['PLINTH_MAIL_FROM', 'a@b.example\nBcc: victim@example.com'],
    ['PLINTH_APP_NAME', 'x'.repeat(101)],
  ])('refuses %s=%j naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(key)
  })
})
