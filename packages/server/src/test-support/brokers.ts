import { connect as connectSocket, createServer, type Server, type Socket } from 'node:net'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect as connectNats } from '@nats-io/transport-node'
import { connectAsync as connectMqtt } from 'mqtt'
import { Connection } from 'rabbitmq-client'
import type { PlinthConfig } from '../config/index.js'
import { AMQP_EXCHANGE, NATS_STREAM } from '../events/index.js'

export type BrokerKind = 'amqp' | 'nats' | 'mqtt'

/** The brokers tests use, overridable by PLINTH_TEST_AMQP_URL, _NATS_URL and _MQTT_URL. */
export const brokerUrls: Record<BrokerKind, string> = {
  amqp: process.env.PLINTH_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
  nats: process.env.PLINTH_TEST_NATS_URL ?? 'nats://127.0.0.1:4222',
  mqtt: process.env.PLINTH_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883',
}

const names: Record<BrokerKind, string> = { amqp: 'RabbitMQ', nats: 'NATS', mqtt: 'the MQTT broker' }

/**
 * Why tests of `kind` cannot run here, or '' when its broker answers. Under CI=true
 * a missing broker throws instead: there, a skipped test would hide a gap.
 */
export async function brokerSkipReason(kind: BrokerKind): Promise<string> {
  const { hostname, port } = new URL(brokerUrls[kind])
  if (await answers(hostname, Number(port))) return ''
  const reason = `${names[kind]} does not answer at ${hostname}:${port} (set PLINTH_TEST_${kind.toUpperCase()}_URL)`
  if (process.env.CI === 'true') throw new Error(`${reason}; it is required under CI.`)
  return reason
}

function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectSocket({ host, port, timeout: 2_000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
  })
}

/**
 * A TCP proxy in front of a broker, so a test can take the broker away from Plinth
 * (closing the port and cutting every connection) while the broker itself runs on.
 */
export interface BrokerProxy {
  /** The broker's URL with the proxy's address. */
  readonly url: string
  /** Connections open through the proxy now. */
  connections(): number
  cut(): Promise<void>
  restore(): Promise<void>
  close(): Promise<void>
}

export async function brokerProxy(kind: BrokerKind): Promise<BrokerProxy> {
  const target = new URL(brokerUrls[kind])
  const sockets = new Set<Socket>()
  const clients = new Set<Socket>()
  let server: Server | null = null
  let port = 0
  const listen = async () => {
    const listening = createServer((client) => {
      const upstream = connectSocket({ host: target.hostname, port: Number(target.port) })
      clients.add(client)
      client.on('close', () => clients.delete(client))
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('close', () => sockets.delete(socket))
        socket.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject)
      listening.listen(port, '127.0.0.1', () => resolve())
    })
    port = (listening.address() as { port: number }).port
    server = listening
  }
  const cut = async () => {
    const closing = server
    server = null
    if (!closing) return
    const closed = new Promise((resolve) => closing.close(resolve))
    for (const socket of sockets) socket.destroy()
    await closed
  }
  await listen()
  const url = new URL(target)
  url.port = String(port)
  return {
    url: url.toString().replace(/\/$/, ''),
    connections: () => clients.size,
    cut,
    async restore() {
      if (!server) await listen()
    },
    close: cut,
  }
}

/** Events config with one broker on, polling fast so tests see other nodes' events soon. */
export function eventsWithBroker(kind: BrokerKind, url = brokerUrls[kind]): PlinthConfig['events'] {
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
    const connection = new Connection(brokerUrls.amqp)
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
    const client = await connectMqtt(brokerUrls.mqtt, { protocolVersion: 5 })
    client.on('message', (topic, payload, packet) => {
      const eventId = packet.properties?.userProperties?.eventId
      messages.push({
        key: topic,
        id: Array.isArray(eventId) ? eventId[0] : eventId,
        body: JSON.parse(payload.toString()),
        contentType: packet.properties?.contentType,
      })
    })
    await client.subscribeAsync(`plinth/events/${collection}/#`, { qos: 1 })
    return reader(() => client.endAsync())
  }
  const connection = await connectNats({ servers: brokerUrls.nats })
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
      messages.push({ key: message.subject, id: message.headers?.get('Nats-Msg-Id'), body: message.json() })
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
