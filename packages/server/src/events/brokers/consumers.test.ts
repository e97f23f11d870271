import { randomBytes } from 'node:crypto'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect as connectNats, type NatsConnection } from '@nats-io/transport-node'
import { Connection } from 'rabbitmq-client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { ConfigError, loadConfig } from '../../config/index.js'
import { createApp } from '../../http/index.js'
import { createTestApp, type TestApp } from '../../test-support/app.js'
import { eventsWithBroker } from '../../test-support/brokers.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../../test-support/databases.js'
import { until } from '../../test-support/job-queues.js'
import { createProjectApp, writeProjectConfig } from '../../test-support/project.js'
import { serviceSkipReason, serviceUrls } from '../../test-support/services.js'

const received = { name: 'received', type: 'base', fields: [{ name: 'payload', type: 'json' }] }

/** A project whose job keeps each payload it is given, so a test sees what a message became. */
function projectWith(consumer: object): string {
  return `
export default {
  jobs: {
    async handleOrder(payload, { records }) {
      await records.create('received', { payload: { value: payload } })
    },
  },
  consumers: [${JSON.stringify(consumer)}],
}
`
}

async function payloadsOf(t: TestApp): Promise<unknown[]> {
  const list = await t.request({ method: 'GET', url: '/api/collections/received/records?perPage=100' })
  expect(list.statusCode, list.body).toBe(200)
  return list.json().items.map((item: { payload: { value: unknown } }) => item.payload.value)
}

describe.each(testDialects)('broker messages become jobs on %s', (kind) => {
  let t: TestApp | undefined
  const suffix = () => randomBytes(5).toString('hex')
  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(async () => {
    await t?.close()
    t = undefined
  })

  describe('from a RabbitMQ queue', () => {
    let skipReason = ''
    let rabbit: Connection | undefined
    let queue = ''
    beforeAll(async () => {
      skipReason = await serviceSkipReason('amqp')
      if (!skipReason) rabbit = new Connection(serviceUrls.amqp)
    })
    beforeEach((context) => {
      if (skipReason) context.skip(skipReason)
      queue = `test.consume.${suffix()}`
    })
    afterEach(async () => {
      await rabbit?.queueDelete({ queue }).catch(() => {})
    })
    afterAll(async () => rabbit?.close())

    test('each message runs the job with its JSON, or its text when it is not JSON, and is acknowledged', async () => {
      t = await createProjectApp(kind, [received], projectWith({ from: 'amqp', queue, job: 'handleOrder' }), {
        events: eventsWithBroker('amqp'),
      })
      // Plinth declares the queue when it starts consuming.
      await until(() =>
        rabbit!.queueDeclare({ queue, passive: true }).then(
          () => true,
          () => false,
        ),
      )
      const publisher = rabbit!.createPublisher({ confirm: true })
      await publisher.send({ routingKey: queue, messageId: 'order-42' }, { orderId: 42, items: ['tea'] })
      await publisher.send({ routingKey: queue }, Buffer.from('not json at all'))
      await publisher.close()

      await until(async () => (await payloadsOf(t!)).length === 2)
      expect(await payloadsOf(t)).toEqual(
        expect.arrayContaining([{ orderId: 42, items: ['tea'] }, 'not json at all']),
      )
      const left = await rabbit!.queueDeclare({ queue, passive: true })
      expect(left.messageCount).toBe(0)
    })
  })

  describe('from a NATS JetStream subject', () => {
    let skipReason = ''
    let nats: NatsConnection | undefined
    let stream = ''
    beforeAll(async () => {
      skipReason = await serviceSkipReason('nats')
      if (!skipReason) nats = await connectNats({ servers: serviceUrls.nats })
    })
    beforeEach((context) => {
      if (skipReason) context.skip(skipReason)
    })
    afterEach(async () => {
      if (stream) await (await jetstreamManager(nats!)).streams.delete(stream).catch(() => {})
      stream = ''
    })
    afterAll(async () => nats?.close())

    test('each message on the subject runs the job, through a durable consumer that acknowledges it', async () => {
      const id = suffix()
      stream = `TEST_${id}`
      const manager = await jetstreamManager(nats!)
      await manager.streams.add({ name: stream, subjects: [`test_${id}.>`] })
      const durable = `plinth_test_${id}`
      t = await createProjectApp(
        kind,
        [received],
        projectWith({ from: 'nats', subject: `test_${id}.orders.>`, stream, durable, job: 'handleOrder' }),
        { events: eventsWithBroker('nats') },
      )
      // The consumer is made from the next message on, so the test waits for it before publishing.
      await until(() =>
        manager.consumers.info(stream, durable).then(
          () => true,
          () => false,
        ),
      )
      const js = jetstream(nats!)
      await js.publish(`test_${id}.orders.new`, JSON.stringify({ orderId: 7 }))
      await js.publish(`test_${id}.orders.new`, 'plain words')
      await js.publish(`test_${id}.invoices.new`, JSON.stringify({ other: true }))

      await until(async () => (await payloadsOf(t!)).length === 2)
      expect(await payloadsOf(t)).toEqual(expect.arrayContaining([{ orderId: 7 }, 'plain words']))
      await until(async () => {
        const info = await manager.consumers.info(stream, durable)
        return info.num_pending === 0 && info.num_ack_pending === 0
      })
    })

    test('a message sent while Plinth is down becomes a job when it is back, under the same default consumer', async () => {
      const id = suffix()
      stream = `TEST_${id}`
      const manager = await jetstreamManager(nats!)
      await manager.streams.add({ name: stream, subjects: [`test_${id}.>`] })
      const source = projectWith({ from: 'nats', subject: `test_${id}.orders.>`, job: 'handleOrder' })
      const settings = { events: eventsWithBroker('nats') }
      t = await createProjectApp(kind, [received], source, settings)
      // The stream is found from the subject; the consumer is named after the job and the subject.
      await until(async () => (await manager.consumers.list(stream).next()).length === 1)
      const js = jetstream(nats!)
      await js.publish(`test_${id}.orders.new`, JSON.stringify({ orderId: 1 }))
      await until(async () => (await payloadsOf(t!)).length === 1)
      await t.close()
      t = undefined

      await js.publish(`test_${id}.orders.new`, JSON.stringify({ orderId: 2 }))
      t = await createProjectApp(kind, [received], source, settings)
      await until(async () => (await payloadsOf(t!)).length === 1)
      expect(await payloadsOf(t)).toEqual([{ orderId: 2 }])
      expect(await manager.consumers.list(stream).next()).toHaveLength(1)
    })
  })
})

describe('broker settings that cannot be used stop start-up', () => {
  test.each([
    ['PLINTH_EVENTS_AMQP_URL', 'http://127.0.0.1:5672'],
    ['PLINTH_EVENTS_NATS_URL', 'not a url'],
    ['PLINTH_EVENTS_MQTT_URL', 'amqp://127.0.0.1:1883'],
  ])('%s=%s is a config error naming the key', (key, value) => {
    expect(() => loadConfig({ [key]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [key]: value })).toThrow(key)
  })

  describe('in the project config', () => {
    let t: TestApp
    beforeAll(async () => {
      t = await createTestApp('sqlite')
    })
    afterAll(async () => t?.close())

    const jobs = '  jobs: { handleOrder() {} },\n'
    const cases = [
      {
        name: 'consumers that are not a list',
        source: `export default {\n${jobs}  consumers: { from: 'amqp' },\n}\n`,
        expected: /plinth\.config\.ts:3: consumers must be an array/,
      },
      {
        name: 'an unknown broker',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'kafka', topic: 'orders', job: 'handleOrder' },\n  ],\n}\n`,
        expected:
          /plinth\.config\.ts:3: consumers: a consumer's "from" must be "amqp" or "nats", not "kafka"/,
      },
      {
        name: 'a job that jobs does not define',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'amqp', queue: 'orders', job: 'handleOrdr' },\n  ],\n}\n`,
        expected:
          /plinth\.config\.ts:4: consumers: the consumer of queue "orders" names the job "handleOrdr"/,
      },
      {
        name: 'a queue without a name',
        source: `export default {\n${jobs}  consumers: [{ from: 'amqp', queue: '', job: 'handleOrder' }],\n}\n`,
        expected: /plinth\.config\.ts:3: consumers: a consumer from amqp needs a queue name/,
      },
      {
        name: 'a queue name that RabbitMQ keeps for itself',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'amqp', queue: 'amq.orders', job: 'handleOrder' },\n  ],\n}\n`,
        expected: /plinth\.config\.ts:4: consumers: queue names starting with "amq\." belong to RabbitMQ/,
      },
      {
        name: 'a subject that is not one',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'nats', subject: 'orders..new', job: 'handleOrder' },\n  ],\n}\n`,
        expected: /plinth\.config\.ts:4: consumers: a consumer from nats needs a subject/,
      },
      {
        name: 'a durable name with a dot',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'nats', subject: 'orders.>', durable: 'a.b', job: 'handleOrder' },\n  ],\n}\n`,
        expected: /plinth\.config\.ts:4: consumers: a consumer's durable must be letters/,
      },
      {
        name: 'an unknown key',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'amqp', queue: 'orders', exchange: 'x', job: 'handleOrder' },\n  ],\n}\n`,
        expected: /plinth\.config\.ts:4: consumers: a consumer from amqp has the unknown key "exchange"/,
      },
      {
        name: 'a key that names a prototype',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'amqp', queue: 'orders', job: 'handleOrder', ['__proto__']: {} },\n  ],\n}\n`,
        expected: /plinth\.config\.ts:4: consumers: a consumer from amqp has the unknown key "__proto__"/,
      },
      {
        name: 'one queue read twice',
        source: `export default {\n${jobs}  consumers: [\n    { from: 'amqp', queue: 'orders', job: 'handleOrder' },\n    { from: 'amqp', queue: 'orders', job: 'handleOrder' },\n  ],\n}\n`,
        expected: /plinth\.config\.ts:3: consumers: two consumers read queue "orders"/,
      },
    ]

    test.each(cases)('$name', async ({ source, expected }) => {
      const config = writeProjectConfig(source)
      try {
        await expect(createApp({ ...t.config, projectConfig: config.file })).rejects.toThrow(expected)
      } finally {
        config.remove()
      }
    })

    test('a consumer from a broker whose URL is not set names the variable to set', async () => {
      const config = writeProjectConfig(
        projectWith({ from: 'nats', subject: 'orders.>', job: 'handleOrder' }),
      )
      try {
        const starting = createApp({ ...t.config, projectConfig: config.file })
        await expect(starting).rejects.toThrow(ConfigError)
        await expect(starting).rejects.toThrow(/PLINTH_EVENTS_NATS_URL/)
      } finally {
        config.remove()
      }
    })
  })
})
