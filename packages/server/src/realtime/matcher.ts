import type { CollectionDefinition, CollectionRegistry } from '../collections/index.js'
import { PlinthError } from '../errors/index.js'
import type { StoredEvent } from '../events/index.js'
import type { Caller } from '../identity/index.js'
import { type EvaluationContext, evaluateFilter } from '../query/index.js'
import type { RecordService } from '../records/index.js'
import { allows, keyReach } from '../rules/index.js'
import type { Delivery, KeyedSubscription, RealtimeClient } from './client.js'
import { RelatedRows } from './related-rows.js'

/** Thrown by `@collection` lookups: only SQL can answer them, against the current rows. */
const NEEDS_QUERY = Symbol('needs a query')

/** Relation hops resolved in memory before a check falls back to a query. */
const MAX_LOOKUP_ROUNDS = 6

type Decision = boolean | typeof NEEDS_QUERY

/** One decision per event and kind of subscriber (collection, rule, filter, identity). */
interface Check {
  event: StoredEvent
  caller: Caller
  collection: CollectionDefinition
  subscription: KeyedSubscription
  /** Absent while the related rows it reads are still being fetched. */
  decision?: Decision
  /** Set when the decision waits for a query. */
  group?: QueryGroup
}

interface Candidate {
  event: StoredEvent
  client: RealtimeClient
  subscription: KeyedSubscription
  check: Check
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

function needsQuery(): never {
  throw NEEDS_QUERY
}

/**
 * Decides which subscriptions receive which events, and renders each record once per
 * kind of reader. A `*` subscription is decided by the list rule, an id by the view rule,
 * then by the subscription's own filter, always on the record the event carries: a
 * delete on the record as it was, an update on its values as written. Related rows that
 * a rule follows are read for the whole batch at once, one query per collection and
 * relation depth, however many events and clients share it. Only `@collection` rules
 * need SQL: one query per collection, rule, filter and identity for the batch, on the
 * current rows, and a delete they would decide is not sent, since its row is gone.
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
    const related = new RelatedRows(this.records, this.registry)
    const checks: Check[] = []
    const candidates: Candidate[] = []
    for (const event of events) {
      const subscribers = byCollection.get(event.collection)
      const collection = subscribers && this.registry.get(event.collection)
      if (!collection) continue
      const byKey = new Map<string, Check>()
      for (const { client, subscription } of subscribers!) {
        if (event.seq <= client.position || event.seq <= subscription.since) continue
        if (subscription.recordId !== null && subscription.recordId !== event.recordId) continue
        let check = byKey.get(subscription.decisionKey)
        if (!check) {
          check = { event, caller: client.identity.caller, collection, subscription }
          this.#decide(check, related)
          byKey.set(subscription.decisionKey, check)
          checks.push(check)
        }
        if (check.decision !== false) candidates.push({ event, client, subscription, check })
      }
    }
    for (let round = 0; round < MAX_LOOKUP_ROUNDS; round++) {
      const waiting = checks.filter((check) => check.decision === undefined)
      if (waiting.length === 0) break
      await related.fetchMissing()
      for (const check of waiting) this.#decide(check, related)
    }
    const groups = new Map<string, QueryGroup>()
    for (const check of checks) {
      if (check.decision === undefined) check.decision = NEEDS_QUERY
      if (check.decision !== NEEDS_QUERY || check.event.action === 'delete') continue
      const key = check.subscription.decisionKey
      let group = groups.get(key)
      if (!group) {
        const { caller, collection, subscription } = check
        group = { caller, collection, operation: operationOf(subscription), subscription, ids: new Set() }
        groups.set(key, group)
      }
      group.ids.add(check.event.recordId)
      check.group = group
    }
    await Promise.all([...groups.values()].map((group) => this.#query(group)))
    const allowed = candidates.filter(({ check, event }) =>
      check.decision === NEEDS_QUERY ? check.group?.readable?.has(event.recordId) === true : check.decision,
    )
    return this.#render(allowed)
  }

  /** Sets the check's decision, or leaves it open when it read related rows not fetched yet. */
  #decide(check: Check, related: RelatedRows): void {
    const { caller, collection, event, subscription } = check
    // Rules may read hidden fields; the record as it was, with them, is what they are checked on.
    const record = event.hidden ? { ...event.record, ...event.hidden.record } : event.record
    const lookups = {
      collections: (name: string) => this.registry.get(name),
      lookup: related.lookup,
      records: needsQuery,
    }
    try {
      const { value, complete } = related.tracking(() => {
        const operation = operationOf(subscription)
        if (!allows(caller, collection, operation, record, lookups, { query: subscription.query }))
          return false
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
      })
      check.decision = complete ? value : undefined
    } catch (error) {
      if (error === NEEDS_QUERY) check.decision = NEEDS_QUERY
      // A rule or filter the schema no longer fits (a field was dropped): nothing is sent.
      else if (error instanceof PlinthError) check.decision = false
      else throw error
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
    const renders = new Map<string, Render>()
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
        delivery = { key: String(shared.size), seq: event.seq, topic: subscription.topic, data }
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
