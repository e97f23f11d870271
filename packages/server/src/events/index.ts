/**
 * Every record change as an event: written to the outbox in the change's own
 * transaction, then handed to each consumer (realtime, webhooks, brokers, event
 * jobs) at least once, in commit order.
 *
 * @example
 * records.onChange(outboxListener(dialect))
 * const events = new EventDispatcher(dialect, { pollInterval: 250, retention: 7 * DAY })
 * events.add({ name: 'audit', durable: true, deliver: async (batch) => { … } })
 * records.onCommit(() => events.wake())
 * events.start()
 */
export {
  AMQP_EXCHANGE,
  addBrokers,
  type BrokerConsumer,
  type Brokers,
  brokerConsumerProblem,
  duplicateConsumerProblem,
  mqttTopic,
  NATS_STREAM,
} from './brokers/index.js'
export { type DispatcherOptions, type EventConsumer, EventDispatcher } from './dispatcher.js'
export { EVENT_JOB_PREFIX, eventJobs, eventKeyCollection, eventKeyProblem } from './event-jobs.js'
export {
  actorOf,
  EVENT_CURSORS_TABLE,
  EVENTS_TABLE,
  type EventBody,
  eventBody,
  eventsMigration,
  eventsTraceMigration,
  newestSeq,
  oldestSeq,
  outboxListener,
  publicEvent,
  readEvents,
} from './outbox.js'
export type { EventAction, EventActor, EventType, PlinthEvent, StoredEvent } from './types.js'
export {
  type CircuitState,
  createWebhooks,
  DELIVERY_STATES as WEBHOOK_DELIVERY_STATES,
  type Delivery,
  type DeliveryState,
  DeliveryWorker,
  deliveriesTraceMigration,
  retryDelay as webhookRetryDelay,
  signature as webhookSignature,
  type Webhook,
  type WebhookInput,
  WebhookSender,
  WebhookService,
  type Webhooks,
  webhooksCatchUpMigration,
  webhooksMigration,
  webhooksPausedMigration,
  webhooksRoutes,
} from './webhooks/index.js'
