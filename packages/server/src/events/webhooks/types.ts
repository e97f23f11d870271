import type { EventAction } from '../types.js'

export const DELIVERY_STATES = ['pending', 'sending', 'failed', 'succeeded', 'dead'] as const
/**
 * `pending`: not tried yet; `sending`: an attempt is under way; `failed`: will be tried
 * again at `nextAttempt`; `succeeded`; `dead`: out of attempts, until replayed.
 */
export type DeliveryState = (typeof DELIVERY_STATES)[number]

/** `open`: paused until `pausedUntil`; `half-open`: the next delivery probes the endpoint. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** An endpoint as the API shows it; its secret is shown once, when it is created. */
export interface Webhook {
  id: string
  url: string
  collections: string[]
  actions: EventAction[]
  filter: string | null
  /** Paused by hand: deliveries are queued and wait, none is sent, until it is resumed. */
  paused: boolean
  circuit: { state: CircuitState; failures: number; pausedUntil: string | null }
  created: string
  updated: string
}

export interface WebhookInput {
  url: string
  collections: string[]
  actions: EventAction[]
  filter?: string | null
  paused?: boolean
}

export interface Delivery {
  id: string
  webhookId: string
  eventId: string
  type: string
  collection: string
  recordId: string
  state: DeliveryState
  attempts: number
  nextAttempt: string | null
  responseStatus: number | null
  durationMs: number | null
  lastError: string | null
  created: string
  updated: string
  finished: string | null
}

export interface DeliveryPage {
  items: Delivery[]
  page: number
  perPage: number
  totalItems: number
  totalPages: number
}
