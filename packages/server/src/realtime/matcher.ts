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

/**
 * The subscribers that get the same bytes for an event: same rule, filter, identity,
 * expand, fields and topic. Everything is decided and rendered per group; only the
 * last step, handing the group's deliveries to its members, is per client.
 */
interface Audience {
  caller: Caller
  subscription: KeyedSubscription
  members: { client: RealtimeClient; since: number }[]
  /** Below every member's position: events up to it reach no one here. */
  floor: number
  pending: Check[]
  deliveries: Delivery[]
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
    const audiences = this.#audiences(clients)
    const related = new RelatedRows(this.records, this.registry)
    const checks: Check[] = []
    for (const event of events) {
      const collection = this.registry.get(event.collection)
      const interested = collection && audiences.get(event.collection)
      if (!interested) continue
      const byKey = new Map<string, Check>()
      for (const audience of interested) {
        const { subscription } = audience
        if (event.seq <= audience.floor) continue
        if (subscription.recordId !== null && subscription.recordId !== event.recordId) continue
        let check = byKey.get(subscription.decisionKey)
        if (!check) {
          check = { event, caller: audience.caller, collection, subscription }
          this.#decide(check, related)
          byKey.set(subscription.decisionKey, check)
          checks.push(check)
        }
        if (check.decision !== false) audience.pending.push(check)
      }
    }
    for (let round = 0; round < MAX_LOOKUP_ROUNDS; round++) {
      const waiting = checks.filter((check) => check.decision === undefined)
      if (waiting.length === 0) break
      await related.fetchMissing()
      for (const check of waiting) this.#decide(check, related)
    }
    await this.#queryUndecided(checks)
    const all = [...audiences.values()].flat()
    for (const audience of all)
      audience.pending = audience.pending.filter((check) =>
        check.decision === NEEDS_QUERY
          ? check.group?.readable?.has(check.event.recordId) === true
          : check.decision === true,
      )
    await this.#render(all)
    return handOut(all)
  }

  /** The clients' subscriptions grouped by what they receive, by collection. */
  #audiences(clients: RealtimeClient[]): Map<string, Audience[]> {
    const byKey = new Map<string, Audience>()
    const byCollection = new Map<string, Audience[]>()
    for (const client of clients)
      for (const subscription of client.subscriptions) {
        let audience = byKey.get(subscription.audienceKey)
        if (!audience) {
          audience = {
            caller: client.identity.caller,
            subscription,
            members: [],
            floor: Number.POSITIVE_INFINITY,
            pending: [],
            deliveries: [],
          }
          byKey.set(subscription.audienceKey, audience)
          const list = byCollection.get(subscription.collection)
          if (list) list.push(audience)
          else byCollection.set(subscription.collection, [audience])
        }
        const since = Math.max(client.position, subscription.since)
        audience.members.push({ client, since })
        audience.floor = Math.min(audience.floor, since)
      }
    return byCollection
  }

  /** Checks left to SQL (`@collection` rules) take one query per group for the batch. */
  async #queryUndecided(checks: Check[]): Promise<void> {
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
          collection,
          canSeeHidden: caller.isSuperuser,
          reachable: keyReach(caller),
          now: new Date(),
          request: { auth: caller.auth, body: {}, query: subscription.query },
          ...lookups,
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

  /** Each record rendered once per kind of reader, then made into each audience's deliveries. */
  async #render(audiences: Audience[]): Promise<void> {
    const renders = new Map<string, Render>()
    for (const audience of audiences) {
      if (audience.pending.length === 0) continue
      const { renderKey } = audience.subscription
      let render = renders.get(renderKey)
      if (!render) {
        render = { caller: audience.caller, subscription: audience.subscription, events: new Map() }
        renders.set(renderKey, render)
      }
      for (const { event } of audience.pending) render.events.set(event.seq, event)
    }
    await Promise.all([...renders.values()].map((render) => this.#present(render)))
    let count = 0
    for (const audience of audiences) {
      const { renderKey, topic } = audience.subscription
      const rendered = renders.get(renderKey)?.data
      for (const { event } of audience.pending) {
        const data = rendered?.get(event.seq)
        if (data !== undefined)
          audience.deliveries.push({ key: String(count++), seq: event.seq, topic, data })
      }
    }
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

/**
 * Each client's deliveries, oldest first: the audience's own list when the client has
 * seen none of it (so clients of one audience share one array, and one encoding of it).
 */
function handOut(audiences: Audience[]): Map<RealtimeClient, Delivery[]> {
  const deliveries = new Map<RealtimeClient, Delivery[]>()
  for (const { members, deliveries: list } of audiences) {
    if (list.length === 0) continue
    for (const { client, since } of members) {
      const due = list[0]!.seq > since ? list : list.filter((delivery) => delivery.seq > since)
      if (due.length === 0) continue
      const earlier = deliveries.get(client)
      // One event may go out under several of the client's topics: each topic once, in order.
      deliveries.set(client, earlier ? [...earlier, ...due].sort((a, b) => a.seq - b.seq) : due)
    }
  }
  return deliveries
}

function operationOf(subscription: KeyedSubscription): 'list' | 'view' {
  return subscription.recordId === null ? 'list' : 'view'
}
