import type { PlinthEvent } from '../types.js'

// Apart from the links so that naming a destination does not load a broker's client.

export const AMQP_EXCHANGE = 'plinth.events'

export function amqpRoutingKey(event: PlinthEvent): string {
  return `${event.collection}.${event.action}`
}

export const NATS_STREAM = 'PLINTH_EVENTS'

export function natsSubject(event: PlinthEvent): string {
  return `plinth.events.${event.collection}.${event.action}`
}

export function mqttTopic(event: PlinthEvent): string {
  return `plinth/events/${event.collection}/${event.action}`
}
