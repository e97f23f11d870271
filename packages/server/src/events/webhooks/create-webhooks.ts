import type { LookupFunction } from 'node:net'
import type { Logger } from 'pino'
import type { CollectionRegistry } from '../../collections/index.js'
import type { WebhooksConfig } from '../../config/index.js'
import type { SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import type { Metrics } from '../../metrics/index.js'
import { WebhookSender } from './sender.js'
import { WebhookService } from './service.js'
import { DeliveryWorker } from './worker.js'

export interface Webhooks {
  service: WebhookService
  worker: DeliveryWorker
}

/** The webhook service and its delivery worker, joined: a delivery queued on this node wakes the worker. */
export function createWebhooks(
  dialect: Dialect,
  registry: CollectionRegistry,
  box: SecretBox,
  config: WebhooksConfig,
  options: {
    pollInterval: number
    retention: number
    log?: Pick<Logger, 'warn'>
    lookup?: LookupFunction
    metrics?: Metrics
  },
): Webhooks {
  const sender = new WebhookSender({
    timeoutMs: config.timeoutMs,
    allowPrivate: config.allowPrivate,
    allowAddresses: config.allowAddresses,
    ...(options.lookup ? { lookup: options.lookup } : {}),
  })
  let worker: DeliveryWorker | undefined
  const service = new WebhookService(dialect, registry, box, config, {
    ...(options.log ? { log: options.log } : {}),
    onQueued: () => worker?.wake(),
  })
  worker = new DeliveryWorker(service, sender, {
    ...config,
    pollInterval: options.pollInterval,
    retention: options.retention,
    ...(options.log ? { log: options.log } : {}),
    ...(options.metrics
      ? {
          failures: options.metrics.counter(
            'plinth_webhook_delivery_failures_total',
            'Failed webhook delivery attempts: retried later (retry) or given up (dead).',
            ['outcome'],
          ),
        }
      : {}),
  })
  return { service, worker }
}
