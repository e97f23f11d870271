import type { CollectionDefinition, CollectionRegistry } from '../collections/index.js'
import { PlinthError } from '../errors/index.js'
import type { StoredEvent } from '../events/index.js'
import type { Caller } from '../identity/index.js'
import { type EvaluationContext, evaluateFilter } from '../query/index.js'
import type { RecordService } from '../records/index.js'
import { allows, keyReach } from '../rules/index.js'
import type { Delivery, KeyedSubscription, RealtimeClient } from './client.js'

/** Thrown by the lookups of an in-memory check: the rule or filter needs other rows. */
const NEEDS_DATABASE = Symbol('needs the database')

type Decision = boolean | typeof NEEDS_DATABASE

interface Candidate {
  event: StoredEvent
  client: RealtimeClient
  subscription: KeyedSubscription
  /** Set when the decision waits for a query. */
  group?: QueryGroup
}

/** Events of one collection checked by one query: same rule, filter and identity. */
interface QueryGroup {
  caller: Caller
  collection: CollectionDefinition
  operation: 'list' | 'view'
  subscription: KeyedSubscription
  ids: Set<string>
  readable?: Set<string>
}

/** The records of one collection rendered for one kind of reader. */
interface Render {
  caller: Caller
  subscription: KeyedSubscription
  events: Map<number, StoredEvent>
  /** The JSON of `{action, record}` by seq; absent when the records could not be shown. */
  data?: Map<number, string>
}

function needsDatabase(): never {
  throw NEEDS_DATABASE
}

/**
 * Decides which subscriptions receive which events, and renders each record once per
 * kind of reader. A `*` subscription is decided by the list rule, an id by the view rule,
 * then by the subscription's own filter. Rules and filters that read only the record and
 * `@request.auth` are evaluated in memory; the others take one query per collection,
 * rule, filter and identity for the whole batch of events, however many clients share it.
 * A delete whose rule needs other rows is not sent: the row is gone, so the rule cannot
 * be checked against it, and an unchecked record must not leave.
 */
export class EventMatcher {
  constructor(
    private readonly records: RecordService,
    private readonly registry: CollectionRegistry,
  ) {}

  async match(events: StoredEvent[], clients: RealtimeClient[]): Promise<Map<RealtimeClient, Delivery[]>> {
    const byCollection = new Map<string, { client: RealtimeClient; subscription: KeyedSubscription }[]>()
    for (const client of clients)
      for (const subscription of client.subscriptions) {
        const list = byCollection.get(subscription.collection) ?? []
        list.push({ client, subscription })
        byCollection.set(subscription.collection, list)
      }
    const candidates: Candidate[] = []
    const groups = new Map<string, QueryGroup>()
    for (const event of events) {
      const subscribers = byCollection.get(event.collection)
      const collection = subscribers && this.registry.get(event.collection)
      if (!collection) continue
      const decisions = new Map<string, Decision>()
      for (const { client, subscription } of subscribers!) {
        if (event.seq <= client.position) continue
        if (subscription.recordId !== null && subscription.recordId !== event.recordId) continue
        const caller = client.identity.caller
        const key = subscription.decisionKey
        let decision = decisions.get(key)
        if (decision === undefined) {
          decision = this.#decide(caller, collection, event, subscription)
          decisions.set(key, decision)
        }
        if (decision === false) continue
        const candidate: Candidate = { event, client, subscription }
        if (decision === NEEDS_DATABASE) {
          if (event.action === 'delete') continue
          let group = groups.get(key)
          if (!group) {
            group = { caller, collection, operation: operationOf(subscription), subscription, ids: new Set() }
            groups.set(key, group)
          }
          group.ids.add(event.recordId)
          candidate.group = group
        }
        candidates.push(candidate)
      }
    }
    await Promise.all([...groups.values()].map((group) => this.#query(group)))
    const allowed = candidates.filter(({ group, event }) => !group || group.readable!.has(event.recordId))
    return this.#render(allowed)
  }

  #decide(
    caller: Caller,
    collection: CollectionDefinition,
    event: StoredEvent,
    subscription: KeyedSubscription,
  ) {
    // Rules may read hidden fields; the record as it was, with them, is what they are checked on.
    const record = event.hidden ? { ...event.record, ...event.hidden.record } : event.record
    const lookups = {
      collections: (name: string) => this.registry.get(name),
      lookup: needsDatabase,
      records: needsDatabase,
    }
    try {
      const operation = operationOf(subscription)
      if (!allows(caller, collection, operation, record, lookups, { query: subscription.query })) return false
      if (!subscription.filter) return true
      const context: EvaluationContext = {
        ...lookups,
        collection,
        canSeeHidden: caller.isSuperuser,
        reachable: keyReach(caller),
        now: new Date(),
        request: { auth: caller.auth, body: {}, query: subscription.query },
      }
      return evaluateFilter(subscription.filter, record, context)
    } catch (error) {
      if (error === NEEDS_DATABASE) return NEEDS_DATABASE
      // A rule or filter the schema no longer fits (a field was dropped): nothing is sent.
      if (error instanceof PlinthError) return false
      throw error
    }
  }

  async #query(group: QueryGroup): Promise<void> {
    const { caller, collection, operation, subscription } = group
    try {
      group.readable = await this.records.readableIds(
        caller,
        collection,
        operation,
        [...group.ids],
        subscription.filter,
        subscription.query,
      )
    } catch (error) {
      if (!(error instanceof PlinthError)) throw error
      group.readable = new Set()
    }
  }

  /** Each record rendered once per collection and kind of reader, then handed to its clients in order. */
  async #render(candidates: Candidate[]): Promise<Map<RealtimeClient, Delivery[]>> {
    const renders = new Map<
      string,
      {
        caller: Caller
        subscription: KeyedSubscription
        events: Map<number, StoredEvent>
        data?: Map<number, string>
      }
    >()
    for (const { event, client, subscription } of candidates) {
      let render = renders.get(subscription.renderKey)
      if (!render) {
        render = { caller: client.identity.caller, subscription, events: new Map() }
        renders.set(subscription.renderKey, render)
      }
      render.events.set(event.seq, event)
    }
    await Promise.all([...renders.values()].map((render) => this.#present(render)))
    const deliveries = new Map<RealtimeClient, Delivery[]>()
    const shared = new Map<string, Delivery>()
    for (const { event, client, subscription } of candidates) {
      const data = renders.get(subscription.renderKey)!.data?.get(event.seq)
      if (data === undefined) continue
      const key = `${subscription.renderKey}\0${event.seq}\0${subscription.topic}`
      let delivery = shared.get(key)
      if (!delivery) {
        delivery = { seq: event.seq, topic: subscription.topic, data }
        shared.set(key, delivery)
      }
      const list = deliveries.get(client)
      if (list) list.push(delivery)
      else deliveries.set(client, [delivery])
    }
    return deliveries
  }

  async #present(render: Render): Promise<void> {
    const events = [...render.events.values()]
    const collection = this.registry.get(events[0]!.collection)
    if (!collection) return
    const { expand, fields } = render.subscription
    let records: Record<string, unknown>[]
    try {
      records = await this.records.present(
        render.caller,
        collection,
        events.map((event) => event.record),
        { expand, fields },
      )
    } catch (error) {
      if (!(error instanceof PlinthError)) throw error
      return
    }
    render.data = new Map(
      events.map((event, index) => [
        event.seq,
        JSON.stringify({ action: event.action, record: records[index] }),
      ]),
    )
  }
}

function operationOf(subscription: KeyedSubscription): 'list' | 'view' {
  return subscription.recordId === null ? 'list' : 'view'
}
