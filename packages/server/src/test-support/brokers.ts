import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect as connectNats } from '@nats-io/transport-node'
import { connectAsync as connectMqtt } from 'mqtt'
import { Connection } from 'rabbitmq-client'
import type { PlinthConfig } from '../config/index.js'
import { AMQP_EXCHANGE, NATS_STREAM } from '../events/index.js'
import { serviceUrls } from './services.js'

export type BrokerKind = 'amqp' | 'nats' | 'mqtt'

/** Events config with one broker on, polling fast so tests see other nodes' events soon. */
export function eventsWithBroker(kind: BrokerKind, url = serviceUrls[kind]): PlinthConfig['events'] {
  return {
    pollIntervalMs: 50,
    retentionDays: 7,
    leaseMs: 30_000,
    amqpUrl: kind === 'amqp' ? url : null,
    natsUrl: kind === 'nats' ? url : null,
    mqttUrl: kind === 'mqtt' ? url : null,
  }
}

/** A message as it reached the broker: its routing key, subject or topic, the event id and the body. */
export interface BrokerMessage {
  key: string
  id: string | undefined
  body: any
  /** What the message says its body is, where the protocol carries it (not NATS). */
  contentType?: string | undefined
  /** Whether RabbitMQ keeps the message on disk (`delivery_mode` 2). */
  persistent?: boolean
  /** The W3C trace context the message carries in its headers (user properties in MQTT). */
  traceparent?: string | undefined
}

export interface EventReader {
  readonly messages: BrokerMessage[]
  /** The messages without repeats of an event id, in the order they first arrived. */
  unique(): BrokerMessage[]
  close(): Promise<void>
}

/**
 * Reads the events of one collection straight from the broker (never through a
 * proxy), with a queue, consumer or subscription of its own so test files running
 * in parallel do not see each other's messages.
 */
export async function readBrokerEvents(kind: BrokerKind, collection: string): Promise<EventReader> {
  const messages: BrokerMessage[] = []
  const reader = (close: () => Promise<void>): EventReader => ({
    messages,
    unique() {
      const seen = new Set<string | undefined>()
      return messages.filter((message) => !seen.has(message.id) && seen.add(message.id))
    },
    close,
  })
  if (kind === 'amqp') {
    const connection = new Connection(serviceUrls.amqp)
    const queue = `test.${collection}`
    const consumer = connection.createConsumer(
      {
        queue,
        queueOptions: { exclusive: true, autoDelete: true },
        exchanges: [{ exchange: AMQP_EXCHANGE, type: 'topic', durable: true }],
        queueBindings: [{ queue, exchange: AMQP_EXCHANGE, routingKey: `${collection}.*` }],
      },
      (message) => {
        messages.push({
          key: message.routingKey,
          id: message.messageId,
          body: message.body,
          contentType: message.contentType,
          persistent: message.durable,
          traceparent: message.headers?.traceparent,
        })
      },
    )
    await new Promise((resolve) => consumer.once('ready', resolve))
    return reader(async () => {
      await consumer.close()
      await connection.close()
    })
  }
  if (kind === 'mqtt') {
    const client = await connectMqtt(serviceUrls.mqtt, { protocolVersion: 5 })
    client.on('message', (topic, payload, packet) => {
      const eventId = packet.properties?.userProperties?.eventId
      const traceparent = packet.properties?.userProperties?.traceparent
      messages.push({
        key: topic,
        id: Array.isArray(eventId) ? eventId[0] : eventId,
        body: JSON.parse(payload.toString()),
        contentType: packet.properties?.contentType,
        traceparent: Array.isArray(traceparent) ? traceparent[0] : traceparent,
      })
    })
    await client.subscribeAsync(`plinth/events/${collection}/#`, { qos: 1 })
    return reader(() => client.endAsync())
  }
  const connection = await connectNats({ servers: serviceUrls.nats })
  const abort = new AbortController()
  // Plinth creates the stream with its first event; the reader starts once it exists.
  const reading = (async () => {
    const manager = await jetstreamManager(connection)
    while (!abort.signal.aborted) {
      try {
        await manager.streams.info(NATS_STREAM)
        break
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    }
    if (abort.signal.aborted) return
    const consumer = await jetstream(connection).consumers.get(NATS_STREAM, {
      // One subject as a string: lists of filters need NATS 2.10.
      filter_subjects: `plinth.events.${collection}.>`,
    })
    const stream = await consumer.consume()
    abort.signal.addEventListener('abort', () => stream.stop())
    for await (const message of stream)
      messages.push({
        key: message.subject,
        id: message.headers?.get('Nats-Msg-Id'),
        body: message.json(),
        traceparent: message.headers?.get('traceparent') || undefined,
      })
  })()
  let failure: unknown = null
  reading.catch((error) => {
    failure = error
  })
  const natsReader = reader(async () => {
    abort.abort()
    await reading.catch(() => {})
    await connection.close()
  })
  return {
    ...natsReader,
    unique() {
      if (failure) throw failure
      return natsReader.unique()
    },
  }
}
