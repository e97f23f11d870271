import { ConfigError, type PlinthConfig } from '../../config/index.js'
import type { EventDispatcher } from '../dispatcher.js'
import type { BrokerConsumer } from './consumers.js'
import type { BrokerLog } from './links.js'

/** The message brokers of an instance: event publishers and the project's consumers. */
export interface Brokers {
  /**
   * Starts connecting, in the background, and starts the consumers. Called where
   * the job worker starts; a one-off command neither connects nor consumes.
   */
  start(): void
  /** Lets messages being turned into jobs finish, then closes every connection. */
  close(): Promise<void>
}

/** Adds a job for a message; a repeat of a message whose job still waits adds nothing. */
export interface JobAdder {
  enqueue(name: string, payload: unknown, options?: { uniqueKey?: string }): Promise<string | null>
}

/**
 * Adds a durable event consumer per broker whose URL is set, so events reach it at
 * least once, in order, after their write committed; a broker that is down only
 * holds them in the outbox. Consumers of the project config read with the same URLs.
 *
 * @example
 * const brokers = await addBrokers(events, jobs, config.events, project.consumers ?? [], log)
 * brokers.start()
 */
export async function addBrokers(
  events: EventDispatcher,
  jobs: JobAdder,
  config: Pick<PlinthConfig['events'], 'amqpUrl' | 'natsUrl' | 'mqttUrl'>,
  consumers: readonly BrokerConsumer[],
  log: BrokerLog,
): Promise<Brokers> {
  // A broker's client loads only where its URL is set: together they add about 250 ms to every start.
  const amqp = config.amqpUrl ? new (await import('./amqp.js')).AmqpLink(config.amqpUrl, log) : null
  const nats = config.natsUrl ? new (await import('./nats.js')).NatsLink(config.natsUrl, log) : null
  const mqtt = config.mqttUrl ? new (await import('./mqtt.js')).MqttLink(config.mqttUrl, log) : null
  for (const consumer of consumers) {
    if (consumer.from === 'amqp' && !amqp)
      throw new ConfigError(
        'PLINTH_EVENTS_AMQP_URL',
        `the project config consumes the RabbitMQ queue "${consumer.queue}"; set the URL of the broker`,
      )
    if (consumer.from === 'nats' && !nats)
      throw new ConfigError(
        'PLINTH_EVENTS_NATS_URL',
        `the project config consumes the NATS subject "${consumer.subject}"; set the URL of the server`,
      )
  }
  for (const link of [amqp, nats, mqtt]) if (link) events.add(link.publisher())
  let isStarted = false
  return {
    start() {
      if (isStarted) return
      isStarted = true
      amqp?.open()
      mqtt?.open()
      nats?.connection().catch(() => {})
      for (const consumer of consumers) {
        const enqueue = (payload: unknown, uniqueKey: string | undefined) =>
          jobs.enqueue(consumer.job, payload, uniqueKey ? { uniqueKey } : {})
        if (consumer.from === 'amqp') amqp?.consume(consumer.queue, enqueue)
        else nats?.consume(consumer, enqueue)
      }
    },
    async close() {
      await Promise.all([amqp?.close(), nats?.close(), mqtt?.close()])
    },
  }
}
