import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream'
import { type ConnectionOptions, connect, headers, type NatsConnection } from '@nats-io/transport-node'
import type { EventConsumer } from '../dispatcher.js'
import { eventBody } from '../outbox.js'
import type { StoredEvent } from '../types.js'
import { messagePayload, type NatsConsumer, natsDurableName } from './consumers.js'
import { NATS_STREAM, natsSubject } from './destinations.js'
import {
  allConfirmed,
  type BrokerLog,
  backoff,
  CONNECT_WAIT_MS,
  outageLog,
  pause,
  publishTraced,
  RECONNECT_MAX_MS,
} from './links.js'

const STREAM_SUBJECTS = 'plinth.events.>'

/** A publish sent just before the connection dropped gets no answer; it is retried after this. */
const PUBLISH_TIMEOUT_MS = 5_000
/** Messages a consumer pulls at once. */
const PULL_BATCH = 20

type Enqueue = (payload: unknown, uniqueKey: string | undefined) => Promise<unknown>

/**
 * One connection to NATS, shared by the JetStream publisher and the project's
 * subject consumers. Once connected the client reconnects by itself; until then
 * each delivery (and each consumer loop) tries again.
 */
export class NatsLink {
  #connecting: Promise<NatsConnection> | null = null
  #hasStream = false
  #isDisconnected = false
  readonly #loops = new Set<Promise<void>>()
  readonly #abort = new AbortController()
  readonly #outage
  readonly #options: ConnectionOptions

  constructor(
    url: string,
    private readonly log: BrokerLog,
  ) {
    this.#outage = outageLog(log, 'nats')
    this.#options = connectionOptions(url)
  }

  connection(): Promise<NatsConnection> {
    if (this.#abort.signal.aborted) return Promise.reject(new Error('The NATS connection is closed.'))
    if (this.#connecting) return this.#connecting
    const connecting = connect(this.#options).then(
      (connection) => {
        this.#outage.up()
        this.#watch(connection)
        return connection
      },
      (error) => {
        this.#connecting = null
        this.#outage.down(error)
        throw error
      },
    )
    this.#connecting = connecting
    return connecting
  }

  /** Notes outages the client rides out by reconnecting, and forgets a connection that closed. */
  #watch(connection: NatsConnection): void {
    ;(async () => {
      for await (const status of connection.status()) {
        if (status.type === 'disconnect') {
          this.#isDisconnected = true
          this.#outage.down(new Error('disconnected from NATS'))
        } else if (status.type === 'reconnect') {
          this.#isDisconnected = false
          this.#outage.up()
        }
      }
    })().catch(() => {})
    connection.closed().then(() => {
      this.#connecting = null
      this.#hasStream = false
      this.#isDisconnected = false
    })
  }

  /**
   * Publishes each event to JetStream with the event id as `Nats-Msg-Id`, so the
   * stream drops a repeat within its duplicate window, and resolves once every
   * publish is acknowledged.
   */
  publisher(): EventConsumer {
    return {
      name: 'nats',
      durable: true,
      deliver: async (events: StoredEvent[]) => {
        const connection = await this.connection()
        // The client would hold publishes until it reconnects, and each would wait out its timeout.
        if (this.#isDisconnected) throw new Error('NATS is reconnecting.')
        if (!this.#hasStream) {
          await ensureStream(await jetstreamManager(connection))
          this.#hasStream = true
        }
        const js = jetstream(connection)
        await allConfirmed(
          events.map((event) =>
            publishTraced('nats', natsSubject(event), event, (traceparent) =>
              js.publish(natsSubject(event), JSON.stringify(eventBody(event)), {
                msgID: event.id,
                timeout: PUBLISH_TIMEOUT_MS,
                ...(traceparent ? { headers: traceHeaders(traceparent) } : {}),
              }),
            ),
          ),
        )
      },
    }
  }

  /**
   * Turns each message on the consumer's subject into a job, through a durable
   * JetStream consumer, acknowledged once the job is in the queue's table.
   */
  consume(consumer: NatsConsumer, enqueue: Enqueue): void {
    const loop = this.#consumeLoop(consumer, enqueue).finally(() => this.#loops.delete(loop))
    this.#loops.add(loop)
  }

  async #consumeLoop(entry: NatsConsumer, enqueue: Enqueue): Promise<void> {
    const { signal } = this.#abort
    const durable = natsDurableName(entry)
    let failures = 0
    while (!signal.aborted) {
      try {
        const connection = await this.connection()
        const manager = await jetstreamManager(connection)
        const stream = entry.stream ?? (await manager.streams.find(entry.subject))
        await ensureConsumer(manager, stream, durable, entry.subject)
        const consumer = await jetstream(connection).consumers.get(stream, durable)
        const messages = await consumer.consume({ max_messages: PULL_BATCH })
        const stop = () => messages.stop()
        signal.addEventListener('abort', stop)
        try {
          for await (const message of messages) {
            failures = 0
            try {
              await enqueue(messagePayload(message.string()), `nats:${stream}:${message.seq}`)
              message.ack()
            } catch (error) {
              this.log.warn(
                { err: error, subject: entry.subject },
                'adding the job of a NATS message failed; it will be redelivered',
              )
              message.nak(1_000)
            }
          }
        } finally {
          signal.removeEventListener('abort', stop)
        }
      } catch (error) {
        if (signal.aborted) break
        failures++
        this.log.warn(
          { err: error, subject: entry.subject, failures },
          'consuming a NATS subject failed; retrying',
        )
      }
      await pause(backoff(failures), signal)
    }
  }

  async close(): Promise<void> {
    this.#abort.abort()
    await Promise.all(this.#loops)
    const connecting = this.#connecting
    this.#connecting = null
    const connection = await connecting?.catch(() => null)
    // Every publish was acknowledged and every consumer stopped: nothing is left to drain.
    await connection?.close().catch(() => {})
  }
}

/** A stream Plinth creates keeps messages a week, like the outbox; it would grow without end otherwise. */
const STREAM_MAX_AGE_NS = 7 * 24 * 60 * 60 * 1e9

/** Creates Plinth's stream when it is missing; an existing one is kept as configured, with the subjects added. */
async function ensureStream(manager: JetStreamManager): Promise<void> {
  try {
    const info = await manager.streams.info(NATS_STREAM)
    const subjects = info.config.subjects ?? []
    if (!subjects.includes(STREAM_SUBJECTS))
      await manager.streams.update(NATS_STREAM, { subjects: [...subjects, STREAM_SUBJECTS] })
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error
    await manager.streams.add({ name: NATS_STREAM, subjects: [STREAM_SUBJECTS], max_age: STREAM_MAX_AGE_NS })
  }
}

/**
 * Creates the durable consumer the first time, from the next message on; one that
 * exists (made by an earlier start, or by hand for another starting point) is used as it is.
 */
async function ensureConsumer(manager: JetStreamManager, stream: string, durable: string, subject: string) {
  try {
    await manager.consumers.info(stream, durable)
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error
    await manager.consumers.add(stream, {
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
    })
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code
}

/** The client takes credentials as options, not in the server URL. */
function connectionOptions(url: string): ConnectionOptions {
  const parsed = new URL(url)
  const options: ConnectionOptions = {
    servers: `${parsed.protocol}//${parsed.host}`,
    name: 'plinth',
    timeout: CONNECT_WAIT_MS,
    maxReconnectAttempts: -1,
    reconnectTimeWait: RECONNECT_MAX_MS / 10,
  }
  const user = decodeURIComponent(parsed.username)
  const password = decodeURIComponent(parsed.password)
  if (user && password) Object.assign(options, { user, pass: password })
  else if (user) options.token = user
  return options
}

/** A consumer's spans join the trace of the request that made the change. */
function traceHeaders(traceparent: string) {
  const h = headers()
  h.set('traceparent', traceparent)
  return h
}
