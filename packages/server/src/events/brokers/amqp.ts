import { Connection, type Consumer, type Publisher } from 'rabbitmq-client'
import type { EventConsumer } from '../dispatcher.js'
import { eventBody } from '../outbox.js'
import type { StoredEvent } from '../types.js'
import { messagePayload } from './consumers.js'
import { AMQP_EXCHANGE, amqpRoutingKey } from './destinations.js'
import {
  allConfirmed,
  type BrokerLog,
  CONFIRM_TIMEOUT_MS,
  CONNECT_WAIT_MS,
  outageLog,
  publishTraced,
  RECONNECT_MAX_MS,
  within,
} from './links.js'

/** Messages a consumer holds unacknowledged at once. */
const PREFETCH = 20
/** A message whose job could not be added goes back to the queue after this pause, not at once. */
const REQUEUE_PAUSE_MS = 1_000

type Enqueue = (payload: unknown, uniqueKey: string | undefined) => Promise<unknown>

/**
 * One connection to RabbitMQ (AMQP 0-9-1), shared by the event publisher and the
 * project's queue consumers. The client reconnects by itself; nothing here waits
 * for it at start-up.
 */
export class AmqpLink {
  #connection: Connection | null = null
  #publisher: Publisher | null = null
  readonly #consumers: Consumer[] = []
  readonly #outage

  constructor(
    private readonly url: string,
    private readonly log: BrokerLog,
  ) {
    this.#outage = outageLog(log, 'amqp')
  }

  open(): Connection {
    if (this.#connection) return this.#connection
    const connection = new Connection({
      url: this.url,
      connectionName: 'plinth',
      acquireTimeout: CONNECT_WAIT_MS,
      connectionTimeout: CONNECT_WAIT_MS,
      retryHigh: RECONNECT_MAX_MS,
    })
    connection.on('error', (error) => this.#outage.down(error))
    connection.on('connection', () => this.#outage.up())
    this.#connection = connection
    return connection
  }

  /**
   * Publishes each event to the topic exchange `plinth.events` as a persistent
   * message, and resolves once RabbitMQ confirmed all of them.
   */
  publisher(): EventConsumer {
    return {
      name: 'amqp',
      durable: true,
      deliver: async (events: StoredEvent[]) => {
        this.#publisher ??= this.open().createPublisher({
          confirm: true,
          exchanges: [{ exchange: AMQP_EXCHANGE, type: 'topic', durable: true }],
        })
        const publisher = this.#publisher
        await within(
          CONFIRM_TIMEOUT_MS,
          'RabbitMQ did not confirm the events in time',
          allConfirmed(
            events.map((event) =>
              publishTraced('rabbitmq', amqpRoutingKey(event), event, (traceparent) =>
                publisher.send(
                  {
                    exchange: AMQP_EXCHANGE,
                    routingKey: amqpRoutingKey(event),
                    messageId: event.id,
                    type: event.type,
                    timestamp: Math.floor(event.time / 1000),
                    durable: true,
                    ...(traceparent ? { headers: { traceparent } } : {}),
                  },
                  eventBody(event),
                ),
              ),
            ),
          ),
        )
      },
    }
  }

  /**
   * Turns each message of `queue` into a job; the message is acknowledged once the
   * job is in the queue's table, and handed back to RabbitMQ when that failed.
   */
  consume(queue: string, enqueue: Enqueue): void {
    const consumer = this.open().createConsumer(
      {
        queue,
        queueOptions: { durable: true },
        qos: { prefetchCount: PREFETCH },
        concurrency: 1,
        requeue: true,
      },
      async (message) => {
        try {
          await enqueue(
            amqpPayload(message.body),
            message.messageId ? `amqp:${queue}:${message.messageId}` : undefined,
          )
        } catch (error) {
          this.log.warn(
            { err: error, queue },
            'adding the job of a RabbitMQ message failed; it goes back to the queue',
          )
          await new Promise((resolve) => setTimeout(resolve, REQUEUE_PAUSE_MS))
          throw error
        }
      },
    )
    consumer.on('error', (error) =>
      this.log.warn({ err: error, queue }, 'consuming a RabbitMQ queue failed; retrying'),
    )
    this.#consumers.push(consumer)
  }

  async close(): Promise<void> {
    // Consumers first: a message being turned into a job finishes and is acknowledged.
    await Promise.allSettled(this.#consumers.map((consumer) => consumer.close()))
    await this.#publisher?.close().catch(() => {})
    await this.#connection?.close().catch(() => {})
  }
}

/** The client already parsed `application/json` bodies; any other body is read as text. */
function amqpPayload(body: unknown): unknown {
  if (Buffer.isBuffer(body)) return messagePayload(body.toString('utf8'))
  if (typeof body === 'string') return messagePayload(body)
  return body
}
