import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer as createNetServer } from 'node:net'
import { afterAll, describe, expect, test } from 'vitest'
import { checkPage, openSection, until, useSignedInAdmin } from './support/admin.js'
import { callApi } from './support/api.js'

const EMAIL = 'ops@example.com'
const PASSWORD = 'a long operations password'
const MEMBER = 'member@example.com'
const MEMBER_PASSWORD = 'a long member password'

/** A port nothing listens on, so mail to it fails at once and its job is left failed. */
async function closedPort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  return typeof address === 'object' && address ? address.port : 0
}

/** An HTTP receiver for webhooks that answers 204 and keeps the headers of each call. */
async function startReceiver(): Promise<{ url: string; calls: IncomingHttpHeaders[]; server: Server }> {
  const calls: IncomingHttpHeaders[] = []
  const server = createHttpServer((request, response) => {
    request.resume()
    request.on('end', () => {
      calls.push(request.headers)
      response.writeHead(204).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return { url: `http://127.0.0.1:${port}/hook`, calls, server }
}

describe('the admin app, operations', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>
  const admin = useSignedInAdmin({
    email: EMAIL,
    password: PASSWORD,
    settings: async () => {
      receiver = await startReceiver()
      return {
        PLINTH_WEBHOOKS_ALLOW_PRIVATE: 'true',
        PLINTH_SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`,
      }
    },
    // Prepared by script, as any client of the API would: a member whose reset mail cannot be
    // sent, and a collection whose changes the webhook sends.
    prepare: async (server, token) => {
      await callApi(server.url, '/api/collections', { name: 'members', type: 'auth', createRule: '' }, token)
      await callApi(server.url, '/api/collections/members/records', {
        email: MEMBER,
        password: MEMBER_PASSWORD,
        passwordConfirm: MEMBER_PASSWORD,
      })
      // Answered 204 whether or not the address is known, so it is sent without callApi.
      await fetch(`${server.url}/api/collections/members/request-password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: MEMBER }),
      })
      await callApi(
        server.url,
        '/api/collections',
        { name: 'notes', fields: [{ name: 'title', type: 'text' }] },
        token,
      )
    },
  })

  afterAll(() => {
    receiver?.server.close()
  })

  test('a mail job that failed is listed by state and retried', { timeout: 120_000 }, async () => {
    const { page } = admin.browser
    await openSection(page, 'Jobs')
    await page.getByRole('combobox', { name: 'State' }).selectOption('failed')
    const retry = page.getByRole('button', { name: /^Retry job mail\.send / })
    await until('a failed mail job', async () => {
      if ((await retry.count()) > 0) return true
      await page.getByRole('combobox', { name: 'State' }).selectOption('dead')
      await page.getByRole('combobox', { name: 'State' }).selectOption('failed')
      return false
    })
    await checkPage(page, 'jobs')
    // The state is in the address: a reload, or the link shared, shows the same list.
    expect(new URL(page.url()).searchParams.get('state')).toBe('failed')
    await page.reload()
    expect(await page.getByRole('combobox', { name: 'State' }).inputValue()).toBe('failed')
    await retry.first().waitFor()
    const retried = page.waitForResponse((r) => r.url().endsWith('/retry') && r.request().method() === 'POST')
    await retry.first().click()
    expect((await retried).status()).toBe(200)
  })

  test('a webhook is added, its delivery logged, and sent again', { timeout: 120_000 }, async () => {
    const { server, browser, token: superuserToken } = admin
    const { page } = browser
    await openSection(page, 'Webhooks')
    await page.getByRole('button', { name: 'Add a webhook' }).click()
    const form = page.getByRole('form', { name: 'New webhook' })
    await form.getByRole('textbox', { name: 'URL' }).fill('ftp://example.com/nope')
    await form.getByRole('checkbox', { name: 'notes' }).check()
    await form.getByRole('button', { name: 'Add the webhook' }).click()
    await form.getByText(/^URL: /).waitFor()
    await checkPage(page, 'webhooks-new')

    await form.getByRole('textbox', { name: 'URL' }).fill(receiver.url)
    await form.getByRole('button', { name: 'Add the webhook' }).click()
    expect(await page.getByRole('textbox', { name: 'Signing secret' }).inputValue()).toMatch(/^whsec_/)
    await page.getByRole('button', { name: 'Done' }).click()
    await checkPage(page, 'webhooks')

    await callApi(server.url, '/api/collections/notes/records', { title: 'hello' }, superuserToken)
    await page.getByRole('link', { name: receiver.url }).click()
    await page.getByRole('heading', { level: 1, name: `Webhook to ${receiver.url}` }).waitFor()
    const deliveries = page.getByRole('table', { name: 'Deliveries' })
    await deliveries.getByRole('cell', { name: 'succeeded' }).waitFor()
    expect(receiver.calls).toHaveLength(1)
    await page.getByRole('combobox', { name: 'State' }).selectOption('succeeded')
    await checkPage(page, 'webhook-deliveries')

    await deliveries.getByRole('button', { name: /^Send delivery .* again$/ }).click()
    await until('the delivery sent again', () => receiver.calls.length === 2)
    expect(receiver.calls[1]?.['webhook-id']).toBe(receiver.calls[0]?.['webhook-id'])

    // Paused by hand, a change waits in the log as pending and reaches the receiver on resuming.
    await page.getByRole('button', { name: 'Pause deliveries' }).click()
    const resume = page.getByRole('button', { name: 'Resume deliveries' })
    await resume.waitFor()
    await callApi(server.url, '/api/collections/notes/records', { title: 'while paused' }, superuserToken)
    await page.getByRole('combobox', { name: 'State' }).selectOption('pending')
    await deliveries.getByRole('cell', { name: 'pending', exact: true }).waitFor()
    await deliveries.getByRole('cell', { name: 'when resumed' }).waitFor()
    expect(receiver.calls).toHaveLength(2)
    await checkPage(page, 'webhook-paused')

    await openSection(page, 'Webhooks')
    const webhooks = page.getByRole('table', { name: 'Webhooks' })
    await webhooks.getByRole('cell', { name: /^paused by hand/ }).waitFor()
    await webhooks.getByRole('link', { name: receiver.url }).click()
    await resume.click()
    await page.getByRole('button', { name: 'Pause deliveries' }).waitFor()
    await until('the delivery that waited', () => receiver.calls.length === 3)
    expect(receiver.calls[2]?.['webhook-id']).not.toBe(receiver.calls[0]?.['webhook-id'])
  })

  test('a cron schedule runs now, beside its schedule', { timeout: 60_000 }, async () => {
    const { page } = admin.browser
    await openSection(page, 'Jobs')
    const schedules = page.getByRole('table', { name: 'Schedules' })
    await schedules.getByRole('cell', { name: 'plinth.logs.prune' }).first().waitFor()
    const entry = (await schedules.getByRole('row').nth(1).getByRole('cell').first().textContent()) as string
    await schedules.getByRole('button', { name: `Run ${entry} now` }).click()
    await schedules
      .getByRole('status')
      .filter({ hasText: /^Queued as job / })
      .waitFor()
    await checkPage(page, 'jobs-schedules')
  })

  test('request logs are filtered, charted and shown one by one', { timeout: 60_000 }, async () => {
    const { server, browser } = admin
    const { page } = browser
    // A second page, as a shared link may name; a new filter starts again at the first.
    await page.goto(`${server.url}/_/logs?page=2`)
    const filter = page.getByRole('textbox', { name: 'Filter' })
    await filter.fill('status >=')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.getByRole('alert').waitFor()
    expect(new URL(page.url()).searchParams.has('page')).toBe(false)
    await filter.fill('url ~ "/api/webhooks"')
    await page.getByRole('button', { name: 'Apply' }).click()
    const logs = page.getByRole('table', { name: 'Request logs' })
    const webhookPost = logs.getByRole('button', { name: /^Details of POST \/api\/webhooks / }).first()
    await webhookPost.click()
    await page.getByRole('heading', { level: 2, name: 'POST /api/webhooks' }).first().waitFor()
    await checkPage(page, 'request-logs')

    await page.reload()
    expect(await filter.inputValue()).toBe('url ~ "/api/webhooks"')
    await webhookPost.waitFor()
    await page.goBack()
    await expect.poll(() => filter.inputValue()).toBe('status >=')
    await page.getByRole('alert').waitFor()
    await page.goForward()
    await webhookPost.waitFor()
    await expect.poll(() => filter.inputValue()).toBe('url ~ "/api/webhooks"')
  })

  test('the audit log keeps its filters in the address, through a reload and back', {
    timeout: 60_000,
  }, async () => {
    const { server, browser } = admin
    const { page } = browser
    // A value the app does not know is dropped: every event is listed.
    await page.goto(`${server.url}/_/audit?event=no_such_event`)
    const event = page.getByRole('combobox', { name: 'Event' })
    const recordId = page.getByRole('textbox', { name: 'Record id' })
    const audit = page.getByRole('table', { name: 'Audit log' })
    await audit.getByRole('cell', { name: 'sign in', exact: true }).first().waitFor()
    expect(await event.inputValue()).toBe('')

    await event.selectOption('sign_in')
    await recordId.fill('0190a6e4-0000-7000-8000-000000000000')
    await page.getByRole('button', { name: 'Apply' }).click()
    await page.getByText('No events match.').waitFor()
    await page.reload()
    expect(await event.inputValue()).toBe('sign_in')
    expect(await recordId.inputValue()).toBe('0190a6e4-0000-7000-8000-000000000000')
    await page.getByText('No events match.').waitFor()

    await page.goBack()
    await expect.poll(() => recordId.inputValue()).toBe('')
    expect(await event.inputValue()).toBe('sign_in')
    await audit.getByRole('cell', { name: 'sign in', exact: true }).first().waitFor()
    await checkPage(page, 'audit-filtered')
  })

  test('a test mail that the mail server refuses says why, beside the form', {
    timeout: 60_000,
  }, async () => {
    const { page } = admin.browser
    await openSection(page, 'Settings')
    const form = page.getByRole('form', { name: 'Send a test mail' })
    await form.getByRole('textbox', { name: 'To' }).fill('someone@example.com')
    await form.getByRole('button', { name: 'Send a test mail' }).click()
    await form.getByRole('alert').waitFor()
    await page.getByText('mail', { exact: true }).click()
    await page.getByText('set (hidden)').first().waitFor()
    await checkPage(page, 'settings')
  })

  test('the metrics page charts rates and latency from /api/metrics', { timeout: 60_000 }, async () => {
    const { page } = admin.browser
    await openSection(page, 'Metrics')
    const requests = page.getByRole('img', { name: /^Requests:/ })
    await requests.waitFor()
    // The first point needs two readings, five seconds apart.
    await until(
      'a point on the chart',
      async () => !(await requests.getAttribute('aria-label'))?.includes('no data'),
      30_000,
    )
    expect(await page.getByRole('img', { name: /^Latency: p50 .* ms, p99 .* ms$/ }).count()).toBe(1)
    await checkPage(page, 'metrics')
  })
})
