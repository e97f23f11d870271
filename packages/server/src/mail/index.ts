/**
 * Sending mail: SMTP through nodemailer, or the log while developing.
 *
 * @example
 * const mailer = createMailer(config, app.log)
 * await mailer.send({ to: 'ada@example.com', subject: 'Hi', text: 'Hello' })
 * // Through the job queue, retried when the SMTP server fails:
 * const queued = queueMail(jobs, mailer, box)
 */
export {
  createMailer,
  DevMailbox,
  type Mailer,
  type MailLog,
  type MailMessage,
  SmtpMailer,
} from './mailer.js'
export { MAIL_JOB, type MailRetry, queueMail } from './queued-mailer.js'
