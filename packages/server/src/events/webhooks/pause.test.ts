import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { WebhooksConfig } from '../../config/index.js'
import type { TestApp } from '../../test-support/app.js'
import { createCollection, createRecord } from '../../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { until } from '../../test-support/job-queues.js'
import {
  readWebhook,
  registerWebhook,
  webhookDeliveries,
  webhookTestApp,
} from '../../test-support/webhook-api.js'
import { type Receiver, startReceiver } from '../../test-support/webhook-receiver.js'

const badPauses: Array<{ name: string; payload: Record<string, unknown> }> = [
  { name: 'paused as a string', payload: { paused: 'yes' } },
  { name: 'paused as "true"', payload: { paused: 'true' } },
  { name: 'paused as null', payload: { paused: null } },
  { name: 'paused as a number', payload: { paused: 1 } },
  { name: 'paused as an array', payload: { paused: [true] } },
  { name: 'paused as an object', payload: { paused: { value: true } } },
  { name: 'a pause with an unknown field', payload: { paused: true, reason: 'maintenance' } },
  { name: 'a pause with the circuit', payload: { paused: true, circuit: { state: 'open' } } },
  { name: 'a pause with an end time', payload: { paused: true, pausedUntil: '2030-01-01T00:00:00Z' } },
  { name: 'a pause with a url that is refused', payload: { paused: true, url: 'ftp://hooks.example.com/' } },
]

/** Bodies written by hand: a JSON object literal cannot carry a `__proto__` key. */
const prototypeBodies = [
  '{"__proto__": {"paused": true}}',
  '{"paused": true, "__proto__": {"paused": false}}',
  '{"constructor": {"prototype": {"paused": true}}}',
  '{"paused": true, "constructor": {"prototype": {"x": 1}}}',
]

describe.each(testDialects)('pausing a webhook by hand on %s', (kind) => {
  let t: TestApp | undefined
  let receiver: Receiver

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    receiver = await startReceiver()
  })
  afterEach(async () => {
    await t?.close()
    t = undefined
    await receiver?.close()
  })

  async function app(settings: Partial<WebhooksConfig> = {}): Promise<TestApp> {
    t = await webhookTestApp(kind, settings)
    await createCollection(t, { name: 'notes', fields: [{ name: 'name', type: 'text' }] })
    return t
  }

  async function change(app: TestApp, id: string, payload: object): Promise<Record<string, any>> {
    const response = await app.request({ method: 'PATCH', url: `/api/webhooks/${id}`, payload })
    expect(response.statusCode, response.body).toBe(200)
    return response.json()
  }

  const receivedAt = (suffix: string) =>
    receiver.received
      .filter((request) => request.url.endsWith(suffix))
      .map((request) => JSON.parse(request.body))

  test('a paused endpoint queues deliveries without sending them, and sends them in order once resumed', async () => {
    const t = await app()
    const events = { collections: ['notes'], actions: ['create', 'update'] }
    const paused = await registerWebhook(t, { url: `${receiver.url}?paused`, ...events })
    expect(paused.paused).toBe(false)
    // Another endpoint of the same events shows when the worker has been round.
    const live = await registerWebhook(t, { url: `${receiver.url}?live`, ...events })
    expect(await change(t, paused.id, { paused: true })).toMatchObject({ id: paused.id, paused: true })
    expect(await readWebhook(t, paused.id)).toMatchObject({ paused: true, url: `${receiver.url}?paused` })
    const listed = (await t.request({ method: 'GET', url: '/api/webhooks' })).json().items
    expect(Object.fromEntries(listed.map((one: any) => [one.id, one.paused]))).toEqual({
      [paused.id]: true,
      [live.id]: false,
    })

    const ada = await createRecord(t, 'notes', { name: 'Ada 0' })
    for (const n of [1, 2]) {
      const patched = await t.request({
        method: 'PATCH',
        url: `/api/collections/notes/records/${ada.id}`,
        payload: { name: `Ada ${n}` },
      })
      expect(patched.statusCode).toBe(200)
    }
    await until(async () => (await webhookDeliveries(t, live.id, '?state=succeeded')).length === 3)
    // A pass of the worker that starts after the one that sent those has nothing left over.
    await createRecord(t, 'notes', { name: 'Bob' })
    await until(async () => (await webhookDeliveries(t, live.id, '?state=succeeded')).length === 4)

    expect(receivedAt('?paused')).toEqual([])
    const waiting = await webhookDeliveries(t, paused.id)
    expect(waiting).toHaveLength(4)
    for (const delivery of waiting)
      expect(delivery).toMatchObject({ state: 'pending', attempts: 0, responseStatus: null, finished: null })
    expect((await readWebhook(t, paused.id)).circuit).toEqual({
      state: 'closed',
      failures: 0,
      pausedUntil: null,
    })

    expect(await change(t, paused.id, { paused: false })).toMatchObject({ paused: false })
    await until(async () => (await webhookDeliveries(t, paused.id, '?state=succeeded')).length === 4)
    const sent = receivedAt('?paused')
    expect(sent).toHaveLength(4)
    expect(
      sent.filter((body) => body.data.record.id === ada.id).map((body) => body.data.record.name),
    ).toEqual(['Ada 0', 'Ada 1', 'Ada 2'])
    expect((await readWebhook(t, paused.id)).paused).toBe(false)
  })

  test('an endpoint registered paused sends nothing until it is resumed', async () => {
    const t = await app()
    const hook = await registerWebhook(t, {
      url: `${receiver.url}?paused`,
      collections: ['notes'],
      actions: ['create'],
      paused: true,
    })
    expect(hook.paused).toBe(true)
    const live = await registerWebhook(t, {
      url: `${receiver.url}?live`,
      collections: ['notes'],
      actions: ['create'],
    })
    await createRecord(t, 'notes', { name: 'Ada' })
    await until(async () => (await webhookDeliveries(t, live.id, '?state=succeeded')).length === 1)
    await createRecord(t, 'notes', { name: 'Bob' })
    await until(async () => (await webhookDeliveries(t, live.id, '?state=succeeded')).length === 2)
    expect(receivedAt('?paused')).toEqual([])
    expect((await webhookDeliveries(t, hook.id, '?state=pending')).length).toBe(2)

    await change(t, hook.id, { paused: false })
    await until(() => receivedAt('?paused').length === 2)
    expect(receivedAt('?paused').map((body) => body.data.record.name)).toEqual(['Ada', 'Bob'])
  })

  test('an attempt under way when the endpoint is paused neither counts against it nor is followed by another', async () => {
    const t = await app({ breakerThreshold: 1, maxAttempts: 5, retryBaseMs: 10 })
    let release: (status: number) => void = () => {}
    const isHeld = new Promise<void>((held) =>
      receiver.answerWith((request) => {
        if (!request.url.endsWith('?paused')) return 204
        held()
        return new Promise<number>((resolve) => (release = resolve))
      }),
    )
    const hook = await registerWebhook(t, {
      url: `${receiver.url}?paused`,
      collections: ['notes'],
      actions: ['create'],
    })
    await createRecord(t, 'notes', { name: 'Ada' })
    await isHeld
    await change(t, hook.id, { paused: true })
    await createRecord(t, 'notes', { name: 'Bob' })
    await until(async () => (await webhookDeliveries(t, hook.id)).length === 2)
    release(500)
    await until(async () => (await webhookDeliveries(t, hook.id, '?state=failed')).length === 1)
    // The worker's pass that held the attempt is over once a later pass sends elsewhere.
    const live = await registerWebhook(t, {
      url: `${receiver.url}?live`,
      collections: ['notes'],
      actions: ['create'],
    })
    await createRecord(t, 'notes', { name: 'Cy' })
    await until(async () => (await webhookDeliveries(t, live.id, '?state=succeeded')).length === 1)

    expect(receivedAt('?paused').map((body) => body.data.record.name)).toEqual(['Ada'])
    // A threshold of one: had the failure counted, the circuit would be open.
    expect(await readWebhook(t, hook.id)).toMatchObject({
      paused: true,
      circuit: { state: 'closed', failures: 0, pausedUntil: null },
    })
    expect(await webhookDeliveries(t, hook.id, '?state=pending')).toHaveLength(2)
  })

  test('pausing alone works when a collection of the endpoint is gone; other changes are checked', async () => {
    const t = await app()
    await createCollection(t, { name: 'drafts', fields: [{ name: 'name', type: 'text' }] })
    const hook = await registerWebhook(t, {
      url: receiver.url,
      collections: ['notes', 'drafts'],
      actions: ['create'],
    })
    const dropped = await t.request({ method: 'DELETE', url: '/api/collections/drafts' })
    expect(dropped.statusCode, dropped.body).toBe(204)

    const refused = await t.request({
      method: 'PATCH',
      url: `/api/webhooks/${hook.id}`,
      payload: { paused: true, actions: ['create', 'delete'] },
    })
    expect(refused.statusCode).toBe(400)
    expect(refused.json().errors.collections.code).toBe('unknown_collection')
    expect((await readWebhook(t, hook.id)).paused).toBe(false)

    expect(await change(t, hook.id, { paused: true })).toMatchObject({
      paused: true,
      collections: ['notes', 'drafts'],
    })
    expect(await change(t, hook.id, { paused: false })).toMatchObject({ paused: false })
  })

  test.each(badPauses)('refuses $name on create and on update, changing nothing', async ({ payload }) => {
    const t = await app()
    const valid = { url: receiver.url, collections: ['notes'], actions: ['create'] }
    const created = await t.request({
      method: 'POST',
      url: '/api/webhooks',
      payload: { ...valid, ...payload },
    })
    expect(created.statusCode, created.body).toBe(400)
    expect(created.headers['content-type']).toContain('application/problem+json')
    expect((await t.request({ method: 'GET', url: '/api/webhooks' })).json().items).toEqual([])

    const hook = await registerWebhook(t, valid)
    const before = (await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).body
    const patched = await t.request({ method: 'PATCH', url: `/api/webhooks/${hook.id}`, payload })
    expect(patched.statusCode, patched.body).toBe(400)
    expect(patched.headers['content-type']).toContain('application/problem+json')
    expect((await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).body).toBe(before)
  })

  test('refuses prototype keys beside paused, changing nothing', async () => {
    const t = await app()
    const valid = { url: receiver.url, collections: ['notes'], actions: ['create'] }
    const hook = await registerWebhook(t, valid)
    const before = (await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).body
    for (const body of prototypeBodies) {
      const created = await t.request({
        method: 'POST',
        url: '/api/webhooks',
        payload: `${body.slice(0, -1)}, "url": "${receiver.url}", "collections": ["notes"], "actions": ["create"]}`,
        headers: { 'content-type': 'application/json' },
      })
      expect(created.statusCode, body).toBe(400)
      expect(created.headers['content-type']).toContain('application/problem+json')
      const patched = await t.request({
        method: 'PATCH',
        url: `/api/webhooks/${hook.id}`,
        payload: body,
        headers: { 'content-type': 'application/json' },
      })
      expect(patched.statusCode, body).toBe(400)
      expect(patched.headers['content-type']).toContain('application/problem+json')
    }
    expect((await t.request({ method: 'GET', url: '/api/webhooks' })).json().items).toHaveLength(1)
    expect((await t.request({ method: 'GET', url: `/api/webhooks/${hook.id}` })).body).toBe(before)
  })
})
