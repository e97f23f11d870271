import { randomBytes } from 'node:crypto'
import { connect, type MqttClient } from 'mqtt'
import type { EventConsumer } from '../dispatcher.js'
import { eventBody } from '../outbox.js'
import type { StoredEvent } from '../types.js'
import { mqttTopic } from './destinations.js'
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

/**
 * Publishes events to an MQTT 5 broker at QoS 1. The session is clean and the
 * client id new on every start: a message is done once the broker answered PUBACK,
 * and one that was not is published again from the outbox, so a session kept by
 * the broker would add nothing, while a shared client id would let two nodes
 * disconnect each other.
 */
export class MqttLink {
  #client: MqttClient | null = null
  readonly #outage

  constructor(
    private readonly url: string,
    log: BrokerLog,
  ) {
    this.#outage = outageLog(log, 'mqtt')
  }

  open(): MqttClient {
    if (this.#client) return this.#client
    const client = connect(this.url, {
      clientId: `plinth-${randomBytes(8).toString('hex')}`,
      clean: true,
      protocolVersion: 5,
      connectTimeout: CONNECT_WAIT_MS,
      reconnectPeriod: RECONNECT_MAX_MS / 10,
    })
    client.on('error', (error) => this.#outage.down(error))
    client.on('offline', () => this.#outage.down(new Error('disconnected from the MQTT broker')))
    client.on('connect', () => this.#outage.up())
    this.#client = client
    return client
  }

  /**
   * Publishes each event at QoS 1 with the event id as the user property `eventId`,
   * and resolves once the broker acknowledged every one.
   */
  publisher(): EventConsumer {
    return {
      name: 'mqtt',
      durable: true,
      deliver: async (events: StoredEvent[]) => {
        const client = this.open()
        // The client would queue publishes while offline; failing now lets the dispatcher back off instead.
        if (!client.connected) await connected(client)
        await within(
          CONFIRM_TIMEOUT_MS,
          'The MQTT broker did not acknowledge the events in time.',
          allConfirmed(
            events.map((event) =>
              publishTraced('mqtt', mqttTopic(event), event, (traceparent) =>
                client.publishAsync(mqttTopic(event), JSON.stringify(eventBody(event)), {
                  qos: 1,
                  properties: {
                    contentType: 'application/json',
                    // MQTT 5 user properties are its headers.
                    userProperties: {
                      eventId: event.id,
                      eventType: event.type,
                      ...(traceparent ? { traceparent } : {}),
                    },
                  },
                }),
              ),
            ),
          ),
        )
      },
    }
  }

  async close(): Promise<void> {
    const client = this.#client
    this.#client = null
    // Waiting for in-flight acknowledgements makes sense only while the broker can send them.
    await client?.endAsync(!client.connected).catch(() => {})
  }
}

async function connected(client: MqttClient): Promise<void> {
  let onConnect = () => {}
  try {
    await within(
      CONNECT_WAIT_MS,
      'The MQTT broker is not connected.',
      new Promise<void>((resolve) => {
        onConnect = resolve
        client.once('connect', onConnect)
      }),
    )
  } finally {
    client.removeListener('connect', onConnect)
  }
}
