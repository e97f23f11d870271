/**
 * Webhooks: endpoints that receive each matching record change as a signed POST
 * (Standard Webhooks), with retries, a dead letter, a delivery log and a circuit breaker.
 *
 * @example
 * const webhooks = createWebhooks(dialect, registry, box, config.webhooks, { pollInterval: 250, retention })
 * events.add(webhooks.service.consumer())
 * webhooks.worker.start()
 * await app.register(webhooksRoutes, { webhooks: webhooks.service })
 */

export { createWebhooks, type Webhooks } from './create-webhooks.js'
export {
  deliveriesTraceMigration,
  webhooksCatchUpMigration,
  webhooksMigration,
  webhooksPausedMigration,
} from './migration.js'
export { retryDelay } from './retry-schedule.js'
export { WebhookSender } from './sender.js'
export { WebhookService } from './service.js'
export { signature } from './signature.js'
export {
  type CircuitState,
  DELIVERY_STATES,
  type Delivery,
  type DeliveryState,
  type Webhook,
  type WebhookInput,
} from './types.js'
export { webhooksRoutes } from './webhooks-routes.js'
export { DeliveryWorker } from './worker.js'
