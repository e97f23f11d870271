import type { LookupFunction } from 'node:net'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { loadConfig, type WebhooksConfig } from '../../config/index.js'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { createCollection, createRecord } from '../../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { until } from '../../test-support/job-queues.js'
import { type Receiver, startReceiver, webhookSettings } from '../../test-support/webhook-receiver.js'
import { WebhookSender } from './sender.js'

/** Resolves one made-up name to a loopback address, as a hostile DNS server would. */
const hostileLookup: LookupFunction = (hostname, options, callback) => {
  if (hostname !== 'hooks.partner.test') {
    callback(Object.assign(new Error(`unknown host ${hostname}`), { code: 'ENOTFOUND' }), '', 4)
    return
  }
  if ((options as { all?: boolean }).all)
    (callback as unknown as (error: null, addresses: Array<{ address: string; family: number }>) => void)(
      null,
      [{ address: '127.0.0.1', family: 4 }],
    )
  else callback(null, '127.0.0.1', 4)
}

describe('the webhook sender', () => {
  const receivers: Receiver[] = []
  const receiver = async (options: Parameters<typeof startReceiver>[0] = {}) => {
    const started = await startReceiver(options)
    receivers.push(started)
    return started
  }
  afterEach(async () => {
    for (const started of receivers.splice(0)) await started.close()
  })

  const sender = (options: Partial<ConstructorParameters<typeof WebhookSender>[0]> = {}) =>
    new WebhookSender({ timeoutMs: 2000, allowPrivate: false, allowAddresses: [], ...options })

  test('checks the address a name resolves to when it connects, not the name', async () => {
    const target = await receiver()
    const url = `http://hooks.partner.test:${target.port}/hook`
    const refused = await sender({ lookup: hostileLookup }).send(url, '{}', {})
    expect(refused).toMatchObject({ isDelivered: false, status: null })
    expect(refused.error).toMatch(/^Refused/)
    expect(target.received).toHaveLength(0)
    // The same name with its address allowed: the lookup's answer is what was checked.
    const allowed = await sender({ lookup: hostileLookup, allowAddresses: ['127.0.0.0/8'] }).send(
      url,
      '{}',
      {},
    )
    expect(allowed).toMatchObject({ isDelivered: true, status: 204, error: null })
    expect(target.received).toHaveLength(1)
  })

  test('refuses loopback names and literal private addresses at connect time', async () => {
    const target = await receiver()
    for (const url of [
      `http://localhost:${target.port}/hook`,
      `http://127.0.0.1:${target.port}/hook`,
      `http://[::1]:${target.port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/hook',
    ]) {
      const result = await sender().send(url, '{}', {})
      expect(result.error, url).toMatch(/^Refused/)
    }
    expect(target.received).toHaveLength(0)
  })

  test('follows a few redirects itself, re-checking each hop', async () => {
    const target = await receiver()
    const hop = await receiver({
      host: '127.0.0.2',
      respond: () => ({ status: 307, headers: { location: target.url } }),
    })
    const checked = await sender({ allowAddresses: ['127.0.0.2'] }).send(hop.url, '{"a":1}', {
      'webhook-id': 'x',
    })
    expect(checked.error).toMatch(/^Refused/)
    expect(hop.received).toHaveLength(1)
    expect(target.received).toHaveLength(0)

    const followed = await sender({ allowPrivate: true }).send(hop.url, '{"a":1}', { 'webhook-id': 'x' })
    expect(followed).toMatchObject({ isDelivered: true, status: 204 })
    expect(target.received[0]).toMatchObject({ body: '{"a":1}', headers: { 'webhook-id': 'x' } })
  })

  test('gives up after three redirects, and on a redirect to another scheme', async () => {
    const loop = await receiver({
      respond: (request) => ({ status: 302, headers: { location: request.url } }),
    })
    const looped = await sender({ allowPrivate: true }).send(loop.url, '{}', {})
    expect(looped).toMatchObject({ isDelivered: false, status: 302, error: 'More than 3 redirects.' })
    expect(loop.received).toHaveLength(4)
    const elsewhere = await receiver({
      respond: () => ({ status: 308, headers: { location: 'file:///etc/passwd' } }),
    })
    const refused = await sender({ allowPrivate: true }).send(elsewhere.url, '{}', {})
    expect(refused.isDelivered).toBe(false)
    expect(refused.error).toContain('not http(s)')
  })

  test('reads only the start of an answer and keeps its error short', async () => {
    const flood = await receiver({
      respond: () => ({
        status: 500,
        headers: { 'content-type': 'text/plain' },
        body: 'x'.repeat(20 * 1024 * 1024),
      }),
    })
    const result = await sender({ allowPrivate: true }).send(flood.url, '{}', {})
    expect(result).toMatchObject({ isDelivered: false, status: 500 })
    expect(result.error!.length).toBeLessThanOrEqual(300)
  })
})

describe.each(testDialects)('webhook targets checked at delivery on %s', (kind) => {
  let t: TestApp | undefined
  const receivers: Receiver[] = []

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(async () => {
    await t?.close()
    t = undefined
    for (const started of receivers.splice(0)) await started.close()
  })

  async function app(settings: Partial<WebhooksConfig>): Promise<TestApp> {
    t = await createTestApp(kind, {
      webhooks: webhookSettings({ allowPrivate: false, maxAttempts: 1, ...settings }),
      events: { ...loadConfig({}).events, pollIntervalMs: 20 },
    })
    await createCollection(t, { name: 'notes', fields: [{ name: 'name', type: 'text' }] })
    return t
  }

  async function deadDelivery(app: TestApp, url: string) {
    const created = await app.request({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url, collections: ['notes'], actions: ['create'] },
    })
    expect(created.statusCode, created.body).toBe(201)
    const { id } = created.json()
    await createRecord(app, 'notes', { name: 'x' })
    const dead = async () =>
      (await app.request({ method: 'GET', url: `/api/webhooks/${id}/deliveries?state=dead` })).json().items
    await until(async () => (await dead()).length === 1)
    return (await dead())[0]
  }

  test('refuses a name that resolves to loopback', async () => {
    const target = await startReceiver()
    receivers.push(target)
    const delivery = await deadDelivery(await app({}), `http://localhost:${target.port}/hook`)
    expect(delivery.lastError).toMatch(/^Refused/)
    expect(delivery.responseStatus).toBeNull()
    expect(target.received).toHaveLength(0)
  })

  test('refuses a redirect from an allowed endpoint to a loopback address', async () => {
    const target = await startReceiver()
    const hop = await startReceiver({
      host: '127.0.0.2',
      respond: () => ({ status: 302, headers: { location: target.url } }),
    })
    receivers.push(target, hop)
    const delivery = await deadDelivery(await app({ allowAddresses: ['127.0.0.2'] }), hop.url)
    expect(delivery.lastError).toMatch(/^Refused/)
    expect(hop.received).toHaveLength(1)
    expect(target.received).toHaveLength(0)
  })
})
