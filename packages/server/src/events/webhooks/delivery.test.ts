import { Webhook } from 'standardwebhooks'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { WebhooksConfig } from '../../config/index.js'
import { createCore } from '../../core/index.js'
import type { TestApp } from '../../test-support/app.js'
import {
  authorsDefinition,
  createCollection,
  createRecord,
  postsDefinition,
} from '../../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { recordedPosition } from '../../test-support/event-cursors.js'
import { until } from '../../test-support/job-queues.js'
import {
  readWebhook,
  registerWebhook,
  webhookDeliveries,
  webhookTestApp,
} from '../../test-support/webhook-api.js'
import { type Receiver, startReceiver } from '../../test-support/webhook-receiver.js'
import { newestSeq, readEvents } from '../outbox.js'

describe.each(testDialects)('webhook deliveries on %s', (kind) => {
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
    await collections(t)
    return t
  }

  /** The blog's collections, and a plain one; no record yet, so no event comes before a webhook exists. */
  async function collections(app: TestApp): Promise<void> {
    await createCollection(app, authorsDefinition)
    await createCollection(app, postsDefinition)
    await createCollection(app, { name: 'notes', fields: [{ name: 'name', type: 'text' }] })
  }

  test('posts each matching change, signed so that an independent verifier accepts it', async () => {
    const t = await app()
    const hook = await registerWebhook(t, {
      url: receiver.url,
      collections: ['posts', 'authors'],
      actions: ['create', 'update', 'delete'],
    })
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/)
    const ada = await createRecord(t, 'authors', { name: 'Ada' })
    const post = await createRecord(t, 'posts', { title: 'Hello', author: ada.id })
    const patched = await t.request({
      method: 'PATCH',
      url: `/api/collections/posts/records/${post.id}`,
      payload: { title: 'Hello again' },
    })
    expect(patched.statusCode).toBe(200)
    const author = await createRecord(t, 'authors', { name: 'Grace', secret: 'never sent' })
    await until(() => receiver.received.length === 4)

    const verifier = new Webhook(hook.secret)
    for (const request of receiver.received) {
      expect(request.headers['content-type']).toBe('application/json')
      expect(() => verifier.verify(request.body, request.headers as Record<string, string>)).not.toThrow()
    }
    expect(() =>
      new Webhook(Buffer.from('another secret entirely').toString('base64')).verify(
        receiver.received[0]!.body,
        receiver.received[0]!.headers as Record<string, string>,
      ),
    ).toThrow()
    // Each record's changes arrive in order; different records' may overtake each other.
    const bodies = receiver.bodies()
    const about = (id: string, type: string) =>
      bodies.find((body) => body.data.record.id === id && body.type === type)
    const created = about(post.id, 'record.created')
    const updated = about(post.id, 'record.updated')
    const grace = about(author.id, 'record.created')
    expect(bodies.indexOf(created)).toBeLessThan(bodies.indexOf(updated))
    expect(created).toMatchObject({
      type: 'record.created',
      data: { collection: 'posts', record: { id: post.id } },
    })
    expect(created.data).not.toHaveProperty('previous')
    expect(new Date(created.timestamp).toISOString()).toBe(created.timestamp)
    expect(updated).toMatchObject({
      type: 'record.updated',
      data: { record: { title: 'Hello again' }, previous: { title: 'Hello' } },
    })
    expect(grace.data.record).toMatchObject({ id: author.id, name: 'Grace' })
    expect(grace.data.record).not.toHaveProperty('secret')

    // The receiver may see the last request before its answer is recorded.
    await until(async () => (await webhookDeliveries(t, hook.id, '?state=succeeded')).length === 4)
    const log = await webhookDeliveries(t, hook.id)
    expect(log).toHaveLength(4)
    expect(log.every((delivery) => delivery.state === 'succeeded' && delivery.responseStatus === 204)).toBe(
      true,
    )
    expect(log.map((delivery) => delivery.id).sort()).toEqual(
      receiver.received.map((request) => request.headers['webhook-id']).sort(),
    )
    expect(JSON.stringify(await readWebhook(t, hook.id))).not.toContain(hook.secret)
  })

  test('sends only the collections, actions and filter an endpoint asked for', async () => {
    const t = await app()
    await registerWebhook(t, {
      url: `${receiver.url}?deletes`,
      collections: ['posts'],
      actions: ['delete'],
    })
    await registerWebhook(t, {
      url: `${receiver.url}?popular`,
      collections: ['posts'],
      actions: ['create'],
      filter: 'views > 10 && title != "Hidden"',
    })
    await registerWebhook(t, {
      url: `${receiver.url}?vip`,
      collections: ['authors'],
      actions: ['create'],
      // Filters read hidden fields too: superusers write them, and nothing hidden is sent.
      filter: 'secret = "vip"',
    })
    const ada = await createRecord(t, 'authors', { name: 'Ada', secret: 'plain' })
    const vip = await createRecord(t, 'authors', { name: 'Vip', secret: 'vip' })
    await createRecord(t, 'posts', { title: 'Quiet', views: 1, author: ada.id })
    const loud = await createRecord(t, 'posts', { title: 'Loud', views: 50, author: ada.id })
    const gone = await t.request({ method: 'DELETE', url: `/api/collections/authors/records/${ada.id}` })
    expect(gone.statusCode).toBe(204)
    await until(() => receiver.received.length === 4)
    const byUrl = (suffix: string) =>
      receiver.received
        .filter((request) => request.url.endsWith(suffix))
        .map((request) => JSON.parse(request.body))
    expect(byUrl('?popular').map((body) => body.data.record.id)).toEqual([loud.id])
    expect(byUrl('?vip').map((body) => body.data.record)).toEqual([expect.objectContaining({ id: vip.id })])
    expect(byUrl('?vip')[0].data.record).not.toHaveProperty('secret')
    // The delete of the author cascaded to both posts: an event each.
    expect(byUrl('?deletes').map((body) => body.type)).toEqual(['record.deleted', 'record.deleted'])
  })

  test('tries again after a 500 and after a timeout, with the same webhook-id', async () => {
    const t = await app({ maxAttempts: 3 })
    receiver.answerWith((_request, n) => (n === 0 ? 500 : n === 1 ? 'hang' : 204))
    const hook = await registerWebhook(t, { url: receiver.url, collections: ['notes'], actions: ['create'] })
    await createRecord(t, 'notes', { name: 'Ada' })
    await until(async () => (await webhookDeliveries(t, hook.id))[0]?.state === 'succeeded')
    expect(receiver.received).toHaveLength(3)
    expect(new Set(receiver.received.map((request) => request.headers['webhook-id'])).size).toBe(1)
    const [delivery] = await webhookDeliveries(t, hook.id)
    expect(delivery).toMatchObject({ attempts: 3, responseStatus: 204, state: 'succeeded' })
  })

  test('dead-letters a delivery after its last attempt, and replays it on request', async () => {
    const t = await app({ maxAttempts: 2 })
    receiver.answerWith(() => 500)
    const hook = await registerWebhook(t, { url: receiver.url, collections: ['notes'], actions: ['create'] })
    await createRecord(t, 'notes', { name: 'Ada' })
    await until(async () => (await webhookDeliveries(t, hook.id, '?state=dead')).length === 1)
    const [dead] = await webhookDeliveries(t, hook.id, '?state=dead')
    expect(dead).toMatchObject({ attempts: 2, responseStatus: 500, nextAttempt: null })
    expect(dead!.lastError).toContain('500')
    expect(receiver.received).toHaveLength(2)
    expect(await webhookDeliveries(t, hook.id, '?state=succeeded')).toEqual([])

    receiver.answerWith(() => 200)
    const replay = await t.request({
      method: 'POST',
      url: `/api/webhooks/${hook.id}/deliveries/${dead!.id}/retry`,
    })
    expect(replay.statusCode, replay.body).toBe(200)
    expect(replay.json()).toMatchObject({ id: dead!.id, attempts: 0 })
    await until(async () => (await webhookDeliveries(t, hook.id, '?state=succeeded')).length === 1)
    expect(receiver.received).toHaveLength(3)
    expect(receiver.received[2]!.headers['webhook-id']).toBe(dead!.id)
  })

  test('keeps the changes of one record in order while an earlier one waits for a retry', async () => {
    const t = await app({ maxAttempts: 5, retryBaseMs: 1000 })
    let release: (status: number) => void = () => {}
    receiver.answerWith((_request, n) =>
      n === 0 ? new Promise<number>((resolve) => (release = resolve)) : 204,
    )
    await registerWebhook(t, { url: receiver.url, collections: ['notes'], actions: ['create', 'update'] })
    const ada = await createRecord(t, 'notes', { name: 'Ada 0' })
    await until(() => receiver.received.length === 1)
    for (const n of [1, 2, 3]) {
      const patched = await t.request({
        method: 'PATCH',
        url: `/api/collections/notes/records/${ada.id}`,
        payload: { name: `Ada ${n}` },
      })
      expect(patched.statusCode).toBe(200)
    }
    const bob = await createRecord(t, 'notes', { name: 'Bob' })
    release(500)
    await until(() => receiver.received.length === 6)
    const bodies = receiver.bodies()
    const adaNames = bodies
      .filter((body) => body.data.record.id === ada.id)
      .map((body) => body.data.record.name)
    expect(adaNames).toEqual(['Ada 0', 'Ada 0', 'Ada 1', 'Ada 2', 'Ada 3'])
    // Another record does not wait for Ada's retry.
    expect(bodies[1].data.record.id).toBe(bob.id)
  })

  test('pauses an endpoint that keeps failing, probes it once, and resumes by itself', async () => {
    const t = await app({ maxAttempts: 20, retryBaseMs: 10, breakerThreshold: 2, breakerPauseMs: 400 })
    receiver.answerWith(() => 503)
    const hook = await registerWebhook(t, { url: receiver.url, collections: ['notes'], actions: ['create'] })
    await createRecord(t, 'notes', { name: 'Ada' })
    await until(async () => (await readWebhook(t, hook.id)).circuit.state === 'open')
    const opened = await readWebhook(t, hook.id)
    expect(opened.circuit.failures).toBe(2)
    expect(receiver.received).toHaveLength(2)
    const pausedUntil = Date.parse(opened.circuit.pausedUntil)
    // Changes made while it is paused wait; nothing is lost.
    await createRecord(t, 'notes', { name: 'Bob' })
    await createRecord(t, 'notes', { name: 'Cy' })

    // The probe fails: one request, and the endpoint is paused again.
    await until(() => receiver.received.length === 3)
    expect(receiver.received[2]!.at).toBeGreaterThanOrEqual(pausedUntil)
    await until(async () => (await readWebhook(t, hook.id)).circuit.failures === 3)
    const reopened = await readWebhook(t, hook.id)
    expect(reopened.circuit.state).toBe('open')
    expect(receiver.received).toHaveLength(3)

    receiver.answerWith(() => 204)
    await until(async () => (await webhookDeliveries(t, hook.id, '?state=succeeded')).length === 3)
    expect(receiver.received[3]!.at).toBeGreaterThanOrEqual(Date.parse(reopened.circuit.pausedUntil))
    expect((await readWebhook(t, hook.id)).circuit).toEqual({
      state: 'closed',
      failures: 0,
      pausedUntil: null,
    })
    const names = receiver
      .bodies()
      .slice(3)
      .map((body) => body.data.record.name)
    expect(names.sort()).toEqual(['Ada', 'Bob', 'Cy'])
  })

  test('sends each delivery from one node when two share the database', async () => {
    const t = await app()
    const hook = await registerWebhook(t, { url: receiver.url, collections: ['notes'], actions: ['create'] })
    // A second node: its own connection, fan-out and worker, on the same database.
    const other = await createCore(t.config)
    try {
      other.events.start()
      other.webhooks.worker.start()
      const ids: string[] = []
      for (let n = 0; n < 40; n++) ids.push((await createRecord(t, 'notes', { name: `n${n}` })).id)
      let succeeded: Array<Record<string, any>> = []
      await until(async () => {
        succeeded = await webhookDeliveries(t, hook.id, '?state=succeeded&perPage=100')
        return succeeded.length === 40
      })
      const sent = receiver.received.map((request) => request.headers['webhook-id'] as string)
      expect(new Set(sent).size).toBe(40)
      // A delivery goes out again only after an attempt of its own failed (an answer slower than
      // the timeout, on a loaded machine), never from both nodes at once: at most once per attempt.
      const attempts = new Map(
        succeeded.map((delivery) => [delivery.id as string, delivery.attempts as number]),
      )
      for (const id of new Set(sent))
        expect(sent.filter((other) => other === id).length).toBeLessThanOrEqual(attempts.get(id)!)
      expect(
        receiver
          .bodies()
          .map((body) => body.data.record.id)
          .sort(),
      ).toEqual(ids.sort())
    } finally {
      await other.close()
    }
  })

  test('an endpoint made through another node receives the changes written here right after', async () => {
    const t = await app()
    const { db } = t.app.plinth.dialect
    // This node's fan-out looks, finds no endpoint, and from then on lets events go by unread.
    await createRecord(t, 'notes', { name: 'before' })
    const beforeSeq = await newestSeq(db)
    await until(async () => ((await recordedPosition(db, 'webhooks')) ?? 0) >= beforeSeq)
    const other = await createCore(t.config)
    try {
      await other.webhooks.service.create({ url: receiver.url, collections: ['notes'], actions: ['create'] })
      await createRecord(t, 'notes', { name: 'after' })
      await until(() => receiver.received.length >= 1)
      expect(receiver.bodies().map((body) => body.data.record.name)).toEqual(['after'])
    } finally {
      await other.close()
    }
  })

  test('adds one delivery per endpoint and event, however often the fan-out is repeated', async () => {
    const t = await app()
    const hook = await registerWebhook(t, { url: receiver.url, collections: ['notes'], actions: ['create'] })
    for (const name of ['a', 'b', 'c']) await createRecord(t, 'notes', { name })
    await until(async () => (await webhookDeliveries(t, hook.id, '?state=succeeded')).length === 3)
    // As after a crash between the fan-out and the cursor's advance: the same events again.
    const events = await readEvents(t.app.plinth.dialect.db, 0, 1000)
    const fanOut = t.app.plinth.webhooks.service.consumer()
    await fanOut.deliver(events)
    await fanOut.deliver(events)
    expect(await webhookDeliveries(t, hook.id)).toHaveLength(3)
    expect(receiver.received).toHaveLength(3)
  })
})
