import type { SecretBox } from '../crypto/index.js'
import type { JobQueue } from '../jobs/index.js'
import type { Mailer, MailMessage } from './mailer.js'

export const MAIL_JOB = 'mail.send'

export interface MailRetry {
  /** Attempts before a mail is given up (the job is dead); default 6. */
  maxAttempts?: number
  /** Wait before the first retry, in ms, doubled each time; default 30 s. */
  backoff?: number
}

/**
 * A mailer that hands each mail to the job queue, whose `mail.send` job passes it to
 * `transport`: a refused or unreachable SMTP server is tried again with backoff, and a
 * mail survives a restart. Mails carry sign-in links and codes, so the stored payload
 * is sealed with the instance secret: reading the jobs table does not give them away.
 * Closing it leaves the transport open for the worker; close the transport after the
 * worker stopped.
 */
export function queueMail(
  jobs: JobQueue<any>,
  transport: Mailer,
  box: SecretBox,
  retry: MailRetry = {},
): Mailer {
  jobs.register(MAIL_JOB, async function sendMail(payload: { sealed: string }) {
    await transport.send(JSON.parse(box.open(payload.sealed)) as MailMessage)
  })
  return {
    async send(message) {
      await jobs.enqueue(
        MAIL_JOB,
        { sealed: box.seal(JSON.stringify(message)) },
        { maxAttempts: retry.maxAttempts ?? 6, backoff: retry.backoff ?? 30_000, queue: 'mail' },
      )
    },
    async close() {},
  }
}
