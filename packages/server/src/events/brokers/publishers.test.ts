import { randomBytes } from 'node:crypto'
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { createCollection, createRecord } from '../../test-support/blog.js'
import {
  type BrokerKind,
  type EventReader,
  eventsWithBroker,
  readBrokerEvents,
} from '../../test-support/brokers.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { until } from '../../test-support/job-queues.js'
import { type ServiceProxy, serviceProxy, serviceSkipReason } from '../../test-support/services.js'
import { readEvents } from '../outbox.js'

const brokers: BrokerKind[] = ['amqp', 'nats', 'mqtt']

/** Where DESIGN says each broker puts an event of `collection` with `action`. */
const keyOf: Record<BrokerKind, (collection: string, action: string) => string> = {
  amqp: (collection, action) => `${collection}.${action}`,
  nats: (collection, action) => `plinth.events.${collection}.${action}`,
  mqtt: (collection, action) => `plinth/events/${collection}/${action}`,
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe.each(testDialects)('event publishers on %s', (kind) => {
  describe.each(brokers)('%s', (broker) => {
    let skipReason = ''
    let t: TestApp | undefined
    let reader: EventReader | undefined
    let proxy: ServiceProxy | undefined
    // Collections are per test: every test file publishes to the same exchange, stream and topics.
    const collection = () => `orders_${randomBytes(5).toString('hex')}`

    beforeAll(async () => {
      skipReason = await serviceSkipReason(broker)
    })
    beforeEach((context) => {
      if (shouldSkip(kind)) context.skip(postgresSkipReason())
      if (skipReason) context.skip(skipReason)
    })
    afterEach(async () => {
      await reader?.close()
      await t?.close()
      await proxy?.close()
      reader = t = proxy = undefined
    })

    async function ordersApp(url?: string) {
      t = await createTestApp(kind, { events: eventsWithBroker(broker, url) })
      const name = collection()
      await createCollection(t, {
        name,
        fields: [
          { name: 'n', type: 'number' },
          { name: 'note', type: 'text' },
          { name: 'secret', type: 'text', hidden: true },
        ],
      })
      return { t, name }
    }

    test('publishes every change with its key, the event body and the event id, in commit order', async () => {
      const { t, name } = await ordersApp()
      reader = await readBrokerEvents(broker, name)
      const first = await createRecord(t, name, { n: 1, note: 'first', secret: 'never published' })
      const patched = await t.request({
        method: 'PATCH',
        url: `/api/collections/${name}/records/${first.id}`,
        payload: { note: 'changed' },
      })
      expect(patched.statusCode, patched.body).toBe(200)
      const removed = await t.request({
        method: 'DELETE',
        url: `/api/collections/${name}/records/${first.id}`,
      })
      expect(removed.statusCode).toBe(204)
      for (let n = 2; n <= 21; n++) await createRecord(t, name, { n })

      await until(() => reader!.unique().length === 23)
      const [created, updated, deleted, ...rest] = reader.unique()
      expect([created!.key, updated!.key, deleted!.key]).toEqual(
        ['create', 'update', 'delete'].map((action) => keyOf[broker](name, action)),
      )
      expect(created!.body).toEqual({
        type: 'record.created',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        data: { collection: name, record: expect.objectContaining({ id: first.id, n: 1, note: 'first' }) },
      })
      expect(updated!.body).toMatchObject({
        type: 'record.updated',
        data: { record: { id: first.id, note: 'changed' }, previous: { id: first.id, note: 'first' } },
      })
      expect(deleted!.body).toMatchObject({ type: 'record.deleted', data: { previous: { id: first.id } } })
      expect(JSON.stringify(reader.messages.map((message) => message.body))).not.toContain('never published')
      expect(rest.map((message) => message.body.data.record.n)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 2),
      )
      const events = (await readEvents(t.app.plinth.dialect.db, 0, 1000)).filter(
        (event) => event.collection === name,
      )
      expect(reader.unique().map((message) => message.id)).toEqual(events.map((event) => event.id))
      expect(events.every((event) => UUID.test(event.id))).toBe(true)
      if (broker !== 'nats') expect(created!.contentType).toBe('application/json')
      if (broker === 'amqp') expect(reader.unique().every((message) => message.persistent)).toBe(true)
    })

    test('a broker that goes away mid-load loses nothing, and writes go on while it is away', async () => {
      proxy = await serviceProxy(broker)
      const { t, name } = await ordersApp(proxy.url)
      reader = await readBrokerEvents(broker, name)
      const writing = (async () => {
        for (let n = 0; n < 20; n++) await createRecord(t, name, { n })
      })()
      await until(() => reader!.unique().length >= 3)
      await proxy.cut()
      await writing
      // Written after the cut: none of these can have reached the broker yet.
      for (let n = 20; n < 30; n++) await createRecord(t, name, { n })
      expect(reader.unique().some((message) => message.body.data.record.n >= 20)).toBe(false)

      await proxy.restore()
      await until(() => reader!.unique().length === 30, 60_000)
      expect(reader.unique().map((message) => message.body.data.record.n)).toEqual(
        Array.from({ length: 30 }, (_, i) => i),
      )
    })

    test('closing Plinth closes its connection to the broker', async () => {
      proxy = await serviceProxy(broker)
      const app = await ordersApp(proxy.url)
      reader = await readBrokerEvents(broker, app.name)
      await createRecord(app.t, app.name, { n: 1 })
      await until(() => reader!.unique().length === 1)
      expect(proxy.connections()).toBeGreaterThan(0)
      await app.t.close()
      t = undefined
      await until(() => proxy!.connections() === 0)
    })

    test('a broker that is down at start-up neither fails nor holds up the start', async () => {
      proxy = await serviceProxy(broker)
      await proxy.cut()
      const { t, name } = await ordersApp(proxy.url)
      reader = await readBrokerEvents(broker, name)
      const created = await createRecord(t, name, { n: 7 })
      expect(reader.messages).toHaveLength(0)

      await proxy.restore()
      await until(() => reader!.unique().length === 1, 60_000)
      expect(reader.unique()[0]!.body.data.record).toMatchObject({ id: created.id, n: 7 })
    })
  })
})
