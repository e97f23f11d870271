import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { SecretBox } from '../crypto/index.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { manualClock, openJobDatabase, until } from '../test-support/job-queues.js'
import { SmtpInbox } from '../test-support/smtp-inbox.js'
import { MAIL_JOB, queueMail, SmtpMailer } from './index.js'

const mail = { to: 'ada@example.com', subject: 'Your code', text: 'Your sign-in code is 123456' }

describe.each(testDialects)('mail through the job queue on %s', (kind) => {
  let db: Awaited<ReturnType<typeof openJobDatabase>>
  let inbox: SmtpInbox

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    db = await openJobDatabase(kind)
  })
  afterEach(async () => {
    await db?.close()
    await inbox?.close()
  })

  test('a mail the SMTP server refuses is sent again after the backoff', async () => {
    let refusals = 1
    inbox = await SmtpInbox.start({
      onRcptTo(_address, _session, callback) {
        if (refusals-- > 0)
          return callback(Object.assign(new Error('mailbox busy, try later'), { responseCode: 451 }))
        callback()
      },
    })
    const clock = manualClock()
    const jobs = await db.queue({ now: clock.now })
    const transport = new SmtpMailer(inbox.url, 'no-reply@plinth.test')
    const mailer = queueMail(jobs, transport, new SecretBox('test-secret-test-secret-test-secret-0123'), {
      backoff: 60_000,
    })
    jobs.start()
    await mailer.send(mail)

    await until(async () => (await db.rows())[0]?.state === 'failed')
    const [failed] = await db.rows()
    expect(failed).toMatchObject({ name: MAIL_JOB, queue: 'mail', attempts: 1 })
    expect(failed!.last_error).toMatch(/mailbox busy/)
    // The stored mail is sealed: its code and address are not readable in the table.
    expect(failed!.payload).not.toContain('123456')
    expect(failed!.payload).not.toContain('ada@example.com')
    expect(inbox.received).toHaveLength(0)

    clock.advance(60_000)
    const received = await inbox.next()
    expect(received).toMatchObject({ to: ['ada@example.com'], subject: 'Your code' })
    await until(async () => (await db.rows())[0]?.state === 'succeeded')
    expect((await db.rows())[0]).toMatchObject({ attempts: 2 })
    await transport.close()
  })
})
