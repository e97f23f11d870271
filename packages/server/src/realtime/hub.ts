import { randomBytes } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Logger } from 'pino'
import { activeCredentials } from '../auth/index.js'
import type { CollectionRegistry } from '../collections/index.js'
import type { RealtimeConfig } from '../config/index.js'
import {
  BadRequestError,
  ForbiddenError,
  NotFoundError,
  PlinthError,
  UnauthorizedError,
} from '../errors/index.js'
import { type EventConsumer, newestSeq, oldestSeq, readEvents, type StoredEvent } from '../events/index.js'
import type { RecordService } from '../records/index.js'
import {
  type Delivery,
  type EndReason,
  type Identity,
  keyed,
  ownerOf,
  RealtimeClient,
  type RoundFrames,
  type Transport,
} from './client.js'
import { EventMatcher } from './matcher.js'
import { parseSubscriptions } from './topics.js'

/** How often connected clients' sessions and API keys are checked, in ms: a revoked one stops within a second. */
const CREDENTIAL_CHECK_MS = 500
/** Events read from the outbox at once while a client catches up. */
const CATCH_UP_BATCH = 500
/** Clients written to between two turns of the event loop. */
const YIELD_EVERY = 200
const CLIENT_ID = /^[A-Za-z0-9_-]{22}\.(\d{1,15})$/
const SEQ = /^\d{1,15}$/

export interface HubDependencies {
  db: Kysely<any>
  records: RecordService
  registry: CollectionRegistry
  log: Pick<Logger, 'warn' | 'error'>
}

/**
 * Every realtime client of this node. It hears every event as a non-durable consumer
 * (each node sees them all), decides who may receive what, and keeps clients honest:
 * heartbeats, the end of their token or session, limits, and the drop of one that reads
 * too slowly to keep up.
 */
export class RealtimeHub {
  readonly #clients = new Map<string, RealtimeClient>()
  readonly #perCaller = new Map<string, number>()
  readonly #matcher: EventMatcher
  readonly #timers: NodeJS.Timeout[] = []
  /** The newest seq handed to this node's clients live. */
  #live = 0
  #isChecking = false

  constructor(
    private readonly deps: HubDependencies,
    private readonly options: RealtimeConfig,
  ) {
    this.#matcher = new EventMatcher(deps.records, deps.registry)
  }

  /** The consumer to add to the event dispatcher: with no client here, events go by unread. */
  get consumer(): EventConsumer {
    return {
      name: 'realtime',
      durable: false,
      deliver: (events) => this.#deliver(events),
      wantsEvents: () => this.#clients.size > 0,
      skipTo: (seq) => {
        this.#live = Math.max(this.#live, seq)
      },
    }
  }

  get size(): number {
    return this.#clients.size
  }

  async start(): Promise<void> {
    this.#live = Math.max(this.#live, await newestSeq(this.deps.db))
    this.#timers.push(
      setInterval(() => this.#heartbeat(), this.options.heartbeatMs),
      setInterval(() => {
        this.#checkCredentials().catch((error) =>
          this.deps.log.warn({ err: error }, 'checking realtime sessions failed'),
        )
      }, CREDENTIAL_CHECK_MS),
    )
    for (const timer of this.#timers) timer.unref()
  }

  /** Ends every stream: the server is shutting down, and open streams would hold it. */
  stop(): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer)
    for (const client of [...this.#clients.values()]) this.end(client, 'shutdown')
  }

  /**
   * A new client. `lastEventId` (an event's seq, or the id of an earlier client) resumes
   * after it once the client subscribes; anything else starts at the newest event.
   * 429 when the caller already holds as many streams as it may. The transport is told
   * the client's id by the caller, once its stream is open.
   */
  connect(transport: Transport, identity: Identity, address: string, lastEventId?: string): RealtimeClient {
    const limitKey = this.assertMayConnect(identity, address)
    this.#take(limitKey)
    const resumeAfter = resumePoint(lastEventId)
    const id = `${randomBytes(16).toString('base64url')}.${this.#live}`
    const client = new RealtimeClient(id, transport, identity, limitKey, this.#live, resumeAfter)
    this.#clients.set(id, client)
    return client
  }

  /**
   * What `connect` would refuse, asked before a WebSocket upgrade so the refusal is an
   * HTTP answer. Answers the name the connection would count under.
   */
  assertMayConnect(identity: Identity, address: string): string {
    assertCurrent(identity)
    const limitKey = ownerOf(identity.caller) ?? `ip:${address}`
    this.#assertRoom(limitKey)
    return limitKey
  }

  /** The peer went away. */
  disconnected(client: RealtimeClient): void {
    if (client.isEnded) return
    client.isEnded = true
    this.#clients.delete(client.id)
    this.#release(client.limitKey)
  }

  end(client: RealtimeClient, reason: EndReason): void {
    if (client.isEnded) return
    this.disconnected(client)
    client.transport.end(reason)
  }

  /** Whether the client's stream is open on this node. */
  holds(clientId: string): boolean {
    return this.#clients.has(clientId)
  }

  find(clientId: string): RealtimeClient {
    const client = this.#clients.get(clientId)
    if (!client) throw new NotFoundError('realtime client')
    return client
  }

  /**
   * Replaces the client's subscriptions, as `identity`. The first signed-in request
   * makes its record the client's owner; after that only the same record may change
   * the client (its token may be a newer one), so a leaked client id lets no one else
   * listen under its owner's rights or make it listen under theirs.
   */
  async subscribe(client: RealtimeClient, topics: readonly string[], identity: Identity): Promise<void> {
    assertCurrent(identity)
    const owner = ownerOf(identity.caller)
    if (client.owner !== null && owner !== client.owner)
      throw new ForbiddenError('This realtime client belongs to another caller; connect again.')
    if (topics.length > this.options.maxSubscriptions)
      throw new BadRequestError(
        `At most ${this.options.maxSubscriptions} subscriptions per client.`,
        'invalid_subscription',
        {
          subscriptions: {
            code: 'too_many',
            message: `at most ${this.options.maxSubscriptions} subscriptions`,
          },
        },
      )
    const subscriptions = parseSubscriptions(topics, this.deps.registry)
    for (const subscription of subscriptions) {
      const { collection, expand, fields, filter, query } = subscription
      this.deps.records.checkReadOptions(identity.caller, collection, { expand, fields, filter }, query)
    }
    const unique = new Map(subscriptions.map((subscription) => [subscription.topic, subscription]))
    const since = await this.#startOf(client, unique.keys())
    if (client.isEnded) return
    if (client.owner === null && owner !== null && client.limitKey !== owner) {
      this.#take(owner)
      this.#release(client.limitKey)
      client.limitKey = owner
    }
    client.owner = owner
    client.identity = identity
    client.subscriptions = [...unique.values()].map((subscription) =>
      keyed(subscription, identity.caller, since.get(subscription.topic)!),
    )
    if (client.resumeAfter !== null) {
      const after = client.resumeAfter
      client.resumeAfter = null
      this.#catchUp(client, after).catch((error) => {
        this.deps.log.warn({ err: error, clientId: client.id }, 'resuming a realtime client failed')
        this.end(client, 'shutdown')
      })
    }
  }

  /**
   * Where each topic starts: a topic kept from before keeps its start; a new one hears
   * the changes committed after it is answered, not those committed earlier that this
   * node has yet to dispatch. A resumed client's topics start where it left off.
   */
  async #startOf(client: RealtimeClient, topics: Iterable<string>): Promise<Map<string, number>> {
    const kept = new Map(client.subscriptions.map((subscription) => [subscription.topic, subscription.since]))
    const starts = new Map<string, number>()
    let newest: number | undefined
    for (const topic of topics) {
      let since = kept.get(topic) ?? client.resumeAfter
      if (since === undefined || since === null) since = newest ??= await newestSeq(this.deps.db)
      starts.set(topic, since)
    }
    return starts
  }

  /** 429 when `key` already holds as many connections as a caller may. */
  #assertRoom(key: string): void {
    if ((this.#perCaller.get(key) ?? 0) >= this.options.maxConnectionsPerCaller)
      throw new PlinthError(
        429,
        'rate_limited',
        `At most ${this.options.maxConnectionsPerCaller} realtime connections per caller.`,
      )
  }

  #take(key: string): void {
    this.#assertRoom(key)
    this.#perCaller.set(key, (this.#perCaller.get(key) ?? 0) + 1)
  }

  #release(key: string): void {
    const count = (this.#perCaller.get(key) ?? 1) - 1
    if (count <= 0) this.#perCaller.delete(key)
    else this.#perCaller.set(key, count)
  }

  async #deliver(events: StoredEvent[]): Promise<void> {
    const last = events[events.length - 1]!.seq
    this.#live = Math.max(this.#live, last)
    const clients: RealtimeClient[] = []
    for (const client of this.#clients.values())
      if (client.isLive && client.subscriptions.length > 0) clients.push(client)
    if (clients.length > 0) await this.#send(await this.#matcher.match(events, clients))
    for (const client of clients) if (!client.isEnded) client.position = Math.max(client.position, last)
  }

  /**
   * Hands each client its deliveries. A client whose socket still holds more than the
   * bound from earlier rounds is dropped before anything more is queued for it: one
   * round may hold a record larger than the bound, but a backlog never grows past
   * the bound plus a round.
   */
  async #send(deliveries: Map<RealtimeClient, Delivery[]>): Promise<void> {
    let written = 0
    const round: RoundFrames = new Map()
    for (const [client, list] of deliveries) {
      // Each write is a system call: yielding now and then lets requests (and their
      // commits) in, so the next round carries several events per write instead of one.
      if (++written % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve))
      if (client.transport.buffered > this.options.maxBufferBytes) this.end(client, 'too_slow')
      if (client.isEnded) continue
      // A client that caught up from the outbox meanwhile has some of these already.
      const floor = client.position
      const due = list[0]!.seq > floor ? list : list.filter((delivery) => delivery.seq > floor)
      if (due.length === 0) continue
      client.transport.events(due, round)
      client.position = due[due.length - 1]!.seq
    }
  }

  /**
   * Sends a resumed client the events after `after` from the outbox, then lets it go
   * live. When some of them were pruned already, it gets a reset instead, so it knows
   * to load its data again rather than trust a stream with a hole in it.
   */
  async #catchUp(client: RealtimeClient, after: number): Promise<void> {
    const { db } = this.deps
    const newest = Math.max(this.#live, await newestSeq(db))
    const oldest = await oldestSeq(db)
    if (after < (oldest ?? newest + 1) - 1) return this.#reset(client, newest)
    client.position = Math.min(after, newest)
    for (;;) {
      if (client.isEnded) return
      const events = await readEvents(db, client.position, CATCH_UP_BATCH)
      if (events.length === 0) {
        if (client.position >= this.#live) {
          client.isLive = true
          return
        }
        // Events the client has not seen were pruned while it caught up.
        return this.#reset(client, this.#live)
      }
      const first = events[0]!.seq
      if (first > client.position + 1 && (await oldestSeq(db)) === first)
        return this.#reset(client, this.#live)
      const deliveries = await this.#matcher.match(events, [client])
      if (client.isEnded) return
      await this.#send(deliveries)
      client.position = Math.max(client.position, events[events.length - 1]!.seq)
    }
  }

  #reset(client: RealtimeClient, newest: number): void {
    if (client.isEnded) return
    client.transport.reset(Math.max(client.position, newest))
    client.position = Math.max(client.position, newest)
    client.isLive = true
  }

  #heartbeat(): void {
    for (const client of [...this.#clients.values()]) {
      client.transport.heartbeat()
      if (client.transport.buffered > this.options.maxBufferBytes) this.end(client, 'too_slow')
    }
  }

  /** Ends clients whose token expired, or whose session or API key ended, in one query per kind. */
  async #checkCredentials(): Promise<void> {
    if (this.#isChecking) return
    this.#isChecking = true
    try {
      const now = Date.now()
      const sessions = new Set<string>()
      const apiKeys = new Set<string>()
      // Only what was seen before the query is judged by it: a client connecting, or signing its
      // subscriptions in, meanwhile carries a session the answer does not cover.
      const checked = [...this.#clients.values()].map((client) => ({ client, identity: client.identity }))
      for (const { client, identity } of checked) {
        const { caller, expiresAt } = identity
        if (expiresAt !== null && expiresAt <= now) {
          this.end(client, 'expired')
          continue
        }
        if (caller.session) sessions.add(caller.session.id)
        if (caller.apiKey) apiKeys.add(caller.apiKey.id)
      }
      if (sessions.size === 0 && apiKeys.size === 0) return
      const active = await activeCredentials(this.deps.db, [...sessions], [...apiKeys], now)
      for (const { client, identity } of checked) {
        if (client.isEnded || client.identity !== identity) continue
        const { session, apiKey } = identity.caller
        if ((session && !active.sessions.has(session.id)) || (apiKey && !active.apiKeys.has(apiKey.id)))
          this.end(client, 'revoked')
      }
    } finally {
      this.#isChecking = false
    }
  }
}

/**
 * Token verification allows for clock skew; a stream does not: one that would end at
 * once is refused, so the client refreshes its token instead of reconnecting in a loop.
 */
function assertCurrent(identity: Identity): void {
  if (identity.expiresAt !== null && identity.expiresAt <= Date.now())
    throw new UnauthorizedError('The token has expired.', 'invalid_token')
}

/** The seq a `Last-Event-ID` names: an event's own, or the one a client id was made at. */
function resumePoint(lastEventId: string | undefined): number | null {
  if (lastEventId === undefined) return null
  const value = lastEventId.trim()
  if (SEQ.test(value)) return Number(value)
  const match = CLIENT_ID.exec(value)
  return match ? Number(match[1]) : null
}
