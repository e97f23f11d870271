import { createRequire } from 'node:module'
import type Nodemailer from 'nodemailer'
import type { Transporter } from 'nodemailer'
import type { PlinthConfig } from '../config/index.js'

/** One mail: plain text always, HTML when the template has it. */
export interface MailMessage {
  to: string
  subject: string
  text: string
  html?: string
}

/** Where Plinth's mails go: an SMTP server, or the log while developing. */
export interface Mailer {
  send(message: MailMessage): Promise<void>
  close(): Promise<void>
}

/** The few methods of a pino logger the mailers use (Fastify's `app.log` is one). */
export interface MailLog {
  info(object: object, message: string): void
  warn(message: string): void
}

/** Sends through the SMTP server of `PLINTH_SMTP_URL` (smtp:// with STARTTLS when offered, or smtps://). */
export class SmtpMailer implements Mailer {
  readonly #transport: Transporter

  constructor(
    url: string,
    private readonly from: string,
  ) {
    // nodemailer loads only where SMTP is configured.
    const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer
    this.#transport = nodemailer.createTransport(url)
  }

  async send(message: MailMessage): Promise<void> {
    await this.#transport.sendMail({ from: this.from, ...message })
  }

  async close(): Promise<void> {
    this.#transport.close()
  }
}

/**
 * Without an SMTP server, mails are written to the log so a developer can follow a
 * verification or reset link. The only log lines that may carry a token are these:
 * the operator chose not to configure a mail server, and start-up says so.
 */
export class DevMailbox implements Mailer {
  constructor(private readonly log: MailLog) {}

  async send(message: MailMessage): Promise<void> {
    this.log.info(
      { devMailbox: { to: message.to, subject: message.subject, text: message.text } },
      'development mailbox: this mail was not sent (no PLINTH_SMTP_URL)',
    )
  }

  async close(): Promise<void> {}
}

/** The mailer the configuration asks for; warns once when mails will only reach the log. */
export function createMailer(config: Pick<PlinthConfig, 'smtpUrl' | 'mailFrom'>, log: MailLog): Mailer {
  if (config.smtpUrl) return new SmtpMailer(config.smtpUrl, config.mailFrom)
  log.warn(
    'PLINTH_SMTP_URL is not set: mails (with their verification, reset and sign-in links and codes) ' +
      'are written to this log instead of being sent. Set PLINTH_SMTP_URL in production.',
  )
  return new DevMailbox(log)
}
