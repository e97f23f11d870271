import { afterEach, describe, expect, test } from 'vitest'
import { loadConfig } from '../config/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import {
  type BrokerKind,
  type EventReader,
  eventsWithBroker,
  readBrokerEvents,
} from '../test-support/brokers.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../test-support/otlp-receiver.js'
import { createProjectApp } from '../test-support/project.js'
import { serviceSkipReason } from '../test-support/services.js'
import { type Receiver, startReceiver, webhookSettings } from '../test-support/webhook-receiver.js'

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`

const notes = {
  name: 'notes',
  fields: [{ name: 'title', type: 'text' }],
  listRule: '',
  viewRule: '',
  createRule: '',
}
const notices = { name: 'notices', fields: [{ name: 'title', type: 'text' }], listRule: '' }

// A before-hook enqueues in the write's transaction; the job then writes a record of its own.
const source = `
import { defineConfig } from 'plinth'
export default defineConfig({
  hooks: {
    notes: {
      async beforeCreate({ record, jobs }) {
        await jobs.enqueue('notify', { title: record.title })
      },
    },
  },
  jobs: {
    async notify({ title }, { records }) {
      await records.create('notices', { title })
    },
  },
})
`

describe.each(testDialects)('trace context carried past the request on %s', (kind) => {
  let receiver: OtlpReceiver | undefined
  let t: TestApp | undefined
  let endpoint: Receiver | undefined

  afterEach(async () => {
    await t?.close()
    await receiver?.close()
    await endpoint?.close()
  })

  /** Flushes until a span matching `is` arrives: the work that makes it runs after the answer. */
  async function spanWhere(is: (span: ReceivedSpan) => boolean): Promise<ReceivedSpan> {
    for (let attempt = 0; attempt < 100; attempt++) {
      await t!.app.plinth.tracing!.flush()
      const found = receiver!.spans().find(is)
      if (found) return found
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('the span never arrived')
  }

  test('a job enqueued by a request runs in that request’s trace', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    receiver = await startOtlpReceiver()
    t = await createProjectApp(kind, [notes, notices], source, {
      traces: receiver.traces(),
      jobs: { concurrency: 2, pollIntervalMs: 20, retentionDays: 1, leaseMarginMs: 30_000 },
    })
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      payload: { title: 'hello' },
      headers: { traceparent: TRACEPARENT },
      auth: null,
    })
    expect(created.statusCode, created.body).toBe(201)
    const job = await spanWhere((span) => span.name === 'process notify')
    expect(job.traceId).toBe(TRACE_ID)
    expect(job.attributes).toMatchObject({ 'plinth.job.name': 'notify', 'plinth.job.attempt': 1 })
    const server = receiver.spans().find((span) => span.name === 'POST /api/collections/:collection/records')!
    expect(job.parentSpanId).toBe(server.spanId)
    // The job's own statements are children of the job's span.
    const insert = await spanWhere(
      (span) => span.parentSpanId === job.spanId && span.attributes['db.operation.name'] === 'insert',
    )
    expect(insert.traceId).toBe(TRACE_ID)
  })

  test('a webhook delivery of a change carries the traceparent of the request that made it', async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    receiver = await startOtlpReceiver()
    endpoint = await startReceiver()
    t = await createTestApp(kind, {
      traces: receiver.traces(),
      webhooks: webhookSettings(),
      events: { ...loadConfig({}).events, pollIntervalMs: 20 },
    })
    await createCollection(t, notes)
    const hook = await t.request({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url: endpoint.url, collections: ['notes'], actions: ['create'] },
    })
    expect(hook.statusCode, hook.body).toBe(201)
    const created = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      payload: { title: 'hello' },
      headers: { traceparent: TRACEPARENT },
      auth: null,
    })
    expect(created.statusCode, created.body).toBe(201)
    for (let attempt = 0; attempt < 100 && endpoint.received.length === 0; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50))
    const [delivery] = endpoint.received
    const server = await spanWhere((span) => span.name === 'POST /api/collections/:collection/records')
    // The attempt is a client span of the request's trace, and the receiver's parent.
    const attempt = await spanWhere((span) => span.name === 'deliver webhook')
    expect(attempt.traceId).toBe(TRACE_ID)
    expect(attempt.parentSpanId).toBe(server.spanId)
    expect(attempt.attributes).toMatchObject({
      'plinth.webhook.id': hook.json().id,
      'plinth.webhook.attempt': 1,
    })
    expect(delivery?.headers.traceparent).toBe(`00-${TRACE_ID}-${attempt.spanId}-01`)
    // The body is what it always was: the trace travels in the header only.
    expect(delivery!.body).not.toContain(TRACE_ID)
  })
})

describe.each(['amqp', 'nats', 'mqtt'] as BrokerKind[])('trace context in %s messages', (broker) => {
  let receiver: OtlpReceiver | undefined
  let t: TestApp | undefined
  let reader: EventReader | undefined

  afterEach(async () => {
    await reader?.close()
    await t?.close()
    await receiver?.close()
  })

  test('an event published for a traced change carries its traceparent', async (context) => {
    const skipReason = await serviceSkipReason(broker)
    if (skipReason) context.skip(skipReason)
    receiver = await startOtlpReceiver()
    t = await createTestApp('sqlite', { traces: receiver.traces(), events: eventsWithBroker(broker) })
    // Every test file publishes to the same exchange, stream and topics: a collection of its own.
    const name = `traced_${Math.random().toString(36).slice(2, 10)}`
    await createCollection(t, { ...notes, name })
    reader = await readBrokerEvents(broker, name)
    const created = await t.request({
      method: 'POST',
      url: `/api/collections/${name}/records`,
      payload: { title: 'hello' },
      headers: { traceparent: TRACEPARENT },
      auth: null,
    })
    expect(created.statusCode, created.body).toBe(201)
    await until(() => reader!.unique().length > 0)
    // The publish is a producer span of the request's trace, and the consumer's parent.
    let publish: ReceivedSpan | undefined
    await until(async () => {
      await t!.app.plinth.tracing!.flush()
      publish = receiver!.spans().find((span) => span.name.startsWith('publish '))
      return publish !== undefined
    })
    const server = receiver.spans().find((span) => span.name === 'POST /api/collections/:collection/records')
    expect(publish!.traceId).toBe(TRACE_ID)
    expect(publish!.parentSpanId).toBe(server?.spanId)
    expect(publish!.attributes['messaging.system']).toBe(
      { amqp: 'rabbitmq', nats: 'nats', mqtt: 'mqtt' }[broker],
    )
    expect(reader.unique()[0]?.traceparent).toBe(`00-${TRACE_ID}-${publish!.spanId}-01`)
  })
})
