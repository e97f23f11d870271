import type { Logger } from 'pino'
import type { CollectionRegistry } from '../../collections/index.js'
import type { WebhooksConfig } from '../../config/index.js'
import { newId, type SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import { ConflictError, FilterError, NotFoundError, ValidationError } from '../../errors/index.js'
import { compileFilter, evaluateFilter } from '../../query/index.js'
import type { EventConsumer } from '../dispatcher.js'
import { eventBody, newestSeq, readEvents } from '../outbox.js'
import type { StoredEvent } from '../types.js'
import { allowList, isRefusedAddress, literalAddress } from './addresses.js'
import { checkFilterScope } from './filter-scope.js'
import { newSecret } from './signature.js'
import { type NewDelivery, toDelivery, toWebhook, type WebhookRow, WebhookStore } from './store.js'
import type { Delivery, DeliveryPage, DeliveryState, Webhook, WebhookInput } from './types.js'

/**
 * How long the fan-out trusts that there is no endpoint, in ms, before it reads them again:
 * an endpoint made through another node (or another process) is found within this time, and
 * handed the events that went by meanwhile (`catch_up_after`).
 */
const NO_ENDPOINT_TRUSTED_MS = 1000
/** Events read at once while an endpoint catches up. */
const CATCH_UP_BATCH = 500

interface Endpoint {
  id: string
  collections: Set<string>
  actions: Set<string>
  filter: string | null
}

/**
 * Endpoints and their delivery log, and the fan-out that turns each event into one
 * delivery per matching endpoint. Sending is the DeliveryWorker's.
 */
export class WebhookService {
  readonly store: WebhookStore
  readonly #allowed
  /** How many endpoints the fan-out last found, and when it began to look; null when unknown. */
  #endpointsFound: { count: number; at: number } | null = null
  /** Endpoints added or removed through this node: a count read before one of them is stale. */
  #changes = 0

  constructor(
    private readonly dialect: Dialect,
    private readonly registry: CollectionRegistry,
    private readonly box: SecretBox,
    private readonly config: Pick<WebhooksConfig, 'allowPrivate' | 'allowAddresses'>,
    private readonly options: { log?: Pick<Logger, 'warn'>; onQueued?: () => void } = {},
  ) {
    this.store = new WebhookStore(dialect)
    this.#allowed = allowList(config.allowAddresses)
  }

  /** Registers an endpoint; the answer holds its secret, which is never shown again. */
  async create(input: WebhookInput, now = Date.now()): Promise<Webhook & { secret: string }> {
    this.#check(input)
    const secret = newSecret()
    // Read before the endpoint exists: the fan-out may go by later events before it knows of it.
    const settled = await newestSeq(this.dialect.db)
    const row = {
      id: newId(),
      url: input.url,
      collections: JSON.stringify(input.collections),
      actions: JSON.stringify(input.actions),
      filter: normalFilter(input.filter),
      secret: this.box.seal(secret),
      failures: 0,
      paused_until: null,
      paused: input.paused ? 1 : 0,
      catch_up_after: settled,
      created: now,
      updated: now,
    }
    await this.store.insertWebhook(row)
    this.#endpointsChanged()
    return { ...toWebhook(row, now), secret }
  }

  async list(now = Date.now()): Promise<{ items: Webhook[] }> {
    return { items: (await this.store.webhooks()).map((row) => toWebhook(row, now)) }
  }

  async get(id: string, now = Date.now()): Promise<Webhook> {
    const row = await this.store.webhook(id)
    if (!row) throw new NotFoundError('webhook')
    return toWebhook(row, now)
  }

  /**
   * Changes an endpoint. Pausing or resuming alone leaves the rest unchecked, so an endpoint
   * whose collection was deleted since can still be paused; resuming wakes the worker, which
   * sends what waited, in order.
   */
  async update(id: string, changes: Partial<WebhookInput>, now = Date.now()): Promise<Webhook> {
    const current = await this.get(id, now)
    const { paused, ...definition } = changes
    const written: Partial<WebhookRow> = { updated: now }
    if (paused !== undefined) written.paused = paused ? 1 : 0
    if (Object.values(definition).some((value) => value !== undefined)) {
      const next: WebhookInput = {
        url: definition.url ?? current.url,
        collections: definition.collections ?? current.collections,
        actions: definition.actions ?? current.actions,
        filter: definition.filter === undefined ? current.filter : definition.filter,
      }
      this.#check(next)
      Object.assign(written, {
        url: next.url,
        collections: JSON.stringify(next.collections),
        actions: JSON.stringify(next.actions),
        filter: normalFilter(next.filter),
      })
    }
    const row = await this.store.updateWebhook(id, written)
    if (!row) throw new NotFoundError('webhook')
    if (current.paused && paused === false) this.options.onQueued?.()
    return toWebhook(row, now)
  }

  async remove(id: string): Promise<void> {
    if (!(await this.store.removeWebhook(id))) throw new NotFoundError('webhook')
    this.#endpointsChanged()
  }

  #endpointsChanged(): void {
    this.#changes++
    this.#endpointsFound = null
  }

  async deliveries(
    webhookId: string,
    query: { state?: DeliveryState; page: number; perPage: number },
  ): Promise<DeliveryPage> {
    await this.get(webhookId)
    return this.store.deliveries(webhookId, query)
  }

  /** Sends a delivery again, whatever became of it, unless an attempt is under way. */
  async replay(webhookId: string, deliveryId: string, now = Date.now()): Promise<Delivery> {
    await this.get(webhookId)
    const row = await this.store.replay(webhookId, deliveryId, now)
    if (row) {
      this.options.onQueued?.()
      return toDelivery(row)
    }
    if (await this.store.delivery(webhookId, deliveryId))
      throw new ConflictError(
        'webhook_delivery_sending',
        'The delivery is being sent; replay it once it is done.',
      )
    throw new NotFoundError('delivery')
  }

  /** The secret an endpoint's deliveries are signed with. */
  secretOf(sealed: string): string {
    return this.box.open(sealed)
  }

  /**
   * The durable consumer of the outbox: one delivery per event and matching endpoint.
   * A repeated batch inserts nothing new (a delivery is unique per endpoint and event).
   * While it knows of no endpoint it wants no events, so the outbox is not read for it.
   */
  consumer(): EventConsumer {
    return {
      name: 'webhooks',
      durable: true,
      wantsEvents: () => this.#endpointsUnsure() || (this.#endpointsFound?.count ?? 0) > 0,
      deliver: async (events) => {
        // Every event before the batch's first was fanned out, or went by unread while no endpoint was known.
        const endpoints = await this.#lookAtEndpoints(events[0]!.seq - 1)
        if (endpoints.length > 0) await this.#fanOut(events, endpoints)
      },
      // With no new event to deliver, a look that is due still finds an endpoint made elsewhere.
      caughtUp: async (position) => {
        if (this.#endpointsUnsure()) await this.#lookAtEndpoints(position)
      },
    }
  }

  /** Whether the fan-out must look at the endpoints again: it never did, or its "none" is too old to trust. */
  #endpointsUnsure(): boolean {
    const found = this.#endpointsFound
    return found === null || (found.count === 0 && Date.now() - found.at >= NO_ENDPOINT_TRUSTED_MS)
  }

  /**
   * The endpoints as they are now, each new one first handed what the fan-out went by before
   * it knew of it: the events after its `catch_up_after` and up to `position`, the fan-out's place.
   */
  async #lookAtEndpoints(position: number): Promise<Endpoint[]> {
    const changes = this.#changes
    const at = Date.now()
    const rows = await this.store.webhooks()
    if (changes === this.#changes) this.#endpointsFound = { count: rows.length, at }
    const endpoints = rows.map(endpointOf)
    for (const [i, row] of rows.entries())
      if (row.catch_up_after !== null)
        await this.#catchUp(endpoints[i]!, Number(row.catch_up_after), position)
    return endpoints
  }

  /** Hands a new endpoint the events after `after` and up to `upTo`, which the fan-out went by without it. */
  async #catchUp(endpoint: Endpoint, after: number, upTo: number): Promise<void> {
    let position = after
    while (position < upTo) {
      const events = (await readEvents(this.dialect.db, position, CATCH_UP_BATCH)).filter(
        (event) => event.seq <= upTo,
      )
      if (events.length === 0) break
      await this.#fanOut(events, [endpoint])
      position = events[events.length - 1]!.seq
    }
    await this.store.clearCatchUp(endpoint.id)
  }

  async #fanOut(events: StoredEvent[], endpoints: Endpoint[]): Promise<void> {
    const deliveries: NewDelivery[] = []
    for (const event of events) {
      const body = JSON.stringify(eventBody(event))
      for (const endpoint of endpoints) {
        if (!endpoint.collections.has(event.collection) || !endpoint.actions.has(event.action)) continue
        if (endpoint.filter !== null && !this.#matches(endpoint.filter, event, endpoint.id)) continue
        deliveries.push({
          id: newId(),
          webhook_id: endpoint.id,
          event_id: event.id,
          event_seq: event.seq,
          type: event.type,
          collection: event.collection,
          record_id: event.recordId,
          body,
          trace_parent: event.traceparent,
        })
      }
    }
    if (deliveries.length === 0) return
    await this.store.insertDeliveries(deliveries, Date.now())
    this.options.onQueued?.()
  }

  /**
   * Filters see the record as written, hidden fields included (superusers wrote them);
   * nothing hidden is sent. A filter the collection no longer fits (a field was
   * dropped) matches nothing, and says so in the log.
   */
  #matches(filter: string, event: StoredEvent, webhookId: string): boolean {
    const collection = this.registry.get(event.collection)
    if (!collection) return false
    try {
      return evaluateFilter(
        filter,
        { ...event.record, ...(event.hidden?.record ?? {}) },
        {
          collection,
          collections: (name) => this.registry.get(name),
          canSeeHidden: true,
          now: new Date(),
          request: { auth: null, body: {}, query: {} },
        },
      )
    } catch (error) {
      if (!(error instanceof FilterError)) throw error
      this.options.log?.warn(
        { webhook: webhookId, collection: event.collection, err: error },
        'a webhook filter no longer fits its collection; the event is not delivered to it',
      )
      return false
    }
  }

  #check(input: WebhookInput): void {
    const errors: Record<string, { code: string; message: string }> = {}
    const urlProblem = this.#urlProblem(input.url)
    if (urlProblem) errors.url = urlProblem
    const unknown = input.collections.filter((name) => !this.registry.get(name))
    if (unknown.length > 0)
      errors.collections = {
        code: 'unknown_collection',
        message: `No collection is named ${unknown.map((name) => JSON.stringify(name)).join(', ')}.`,
      }
    else if (new Set(input.collections).size !== input.collections.length)
      errors.collections = { code: 'duplicate', message: 'A collection is named twice.' }
    if (new Set(input.actions).size !== input.actions.length)
      errors.actions = { code: 'duplicate', message: 'An action is named twice.' }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors, 'The webhook is invalid.')
    const filter = normalFilter(input.filter)
    if (filter === null) return
    for (const name of input.collections) {
      try {
        checkFilterScope(filter)
        compileFilter(filter, {
          dialect: this.dialect,
          collection: this.registry.get(name)!,
          alias: 'r',
          collections: (other) => this.registry.get(other),
          canSeeHidden: true,
          now: new Date(),
          request: { auth: null, body: {}, query: {} },
        })
      } catch (error) {
        if (!(error instanceof FilterError)) throw error
        throw new ValidationError(
          { filter: { code: 'invalid_filter', message: `For ${name}: ${error.message}` } },
          'The webhook filter is invalid.',
        )
      }
    }
  }

  #urlProblem(raw: string): { code: string; message: string } | null {
    if (!URL.canParse(raw)) return { code: 'invalid_url', message: 'must be an absolute URL' }
    const url = new URL(raw)
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { code: 'invalid_url', message: 'must start with http:// or https://' }
    if (url.username || url.password)
      return { code: 'invalid_url', message: 'must not carry a user name or password' }
    const address = literalAddress(url)
    if (!this.config.allowPrivate && address !== null && isRefusedAddress(address, this.#allowed))
      return {
        code: 'private_address',
        message:
          'is a private, loopback, link-local or reserved address; set PLINTH_WEBHOOKS_ALLOW_PRIVATE=true to allow it',
      }
    return null
  }
}

function normalFilter(filter: string | null | undefined): string | null {
  return filter === undefined || filter === null || filter.trim() === '' ? null : filter
}

function endpointOf(row: WebhookRow): Endpoint {
  return {
    id: row.id,
    collections: new Set<string>(JSON.parse(row.collections)),
    actions: new Set<string>(JSON.parse(row.actions)),
    filter: row.filter,
  }
}
