/**
 * Sending mail: SMTP through nodemailer, or the log while developing.
 *
 * @example
 * const mailer = createMailer(config, app.log)
 * await mailer.send({ to: 'ada@example.com', subject: 'Hi', text: 'Hello' })
 */
export {
  createMailer,
  DevMailbox,
  type Mailer,
  type MailLog,
  type MailMessage,
  SmtpMailer,
} from './mailer.js'
