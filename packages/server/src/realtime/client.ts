import type { Caller } from '../identity/index.js'
import type { Subscription } from './topics.js'

/** Why a stream ended, as its last message says. */
export type EndReason = 'expired' | 'revoked' | 'too_slow' | 'shutdown'

/**
 * One event for one topic, shared by every client that gets it in the same form, so
 * its frame is encoded once however many clients it goes to.
 */
export interface Delivery {
  /** Names the delivery within its round: clients with the same keys get the same bytes. */
  key: string
  seq: number
  topic: string
  /** The JSON of `{action, record}`. */
  data: string
  /** The SSE frame, made by the first SSE client that gets it. */
  sseFrame?: string
  /** The WebSocket message, made by the first WebSocket client that gets it. */
  socketMessage?: string
}

/**
 * What a round's transports encode once and share: the bytes of a run of deliveries, by
 * their keys joined, and by the array itself when clients share one.
 */
export type RoundFrames = Map<string | Delivery[], Buffer>

/** How messages reach one client: an SSE response or a WebSocket. */
export interface Transport {
  /** The client's first message, carrying the id it names itself by in later requests. */
  connected(clientId: string): void
  /** The events of one round, in order, written at once; `round` holds what other clients' transports encoded. */
  events(deliveries: Delivery[], round: RoundFrames): void
  /** Tells the client that events it missed are gone: it should load its data again. */
  reset(seq: number): void
  heartbeat(): void
  /** Bytes written but not yet taken by the peer. */
  readonly buffered: number
  /** Ends the stream; `reason` is told to the client when it can still hear it. */
  end(reason: EndReason): void
}

/** Who a client acts for, and until when. */
export interface Identity {
  caller: Caller
  /** The access token's `exp`, in ms; null for none (anonymous, API keys). */
  expiresAt: number | null
}

/** A subscription with the keys under which its decisions and renderings are shared. */
export interface KeyedSubscription extends Subscription {
  /** Same rule, filter and identity: the same decision for an event. */
  decisionKey: string
  /** Same identity, expand and fields: the same rendering of a record. */
  renderKey: string
  /** Same decision, rendering and topic: the same bytes. */
  audienceKey: string
  /** The seq of the last event committed before the subscription began: it hears later ones. */
  since: number
}

export function keyed(subscription: Subscription, caller: Caller, since: number): KeyedSubscription {
  const identity = identityKey(caller)
  const query = Object.entries(subscription.query)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&')
  const operation = subscription.recordId === null ? 'list' : 'view'
  const decisionKey = `${subscription.collection}\0${operation}\0${identity}\0${subscription.filter}\0${query}`
  const renderKey = `${subscription.collection}\0${identity}\0${subscription.expand ?? ''}\0${subscription.fields ?? ''}`
  return {
    ...subscription,
    since,
    decisionKey,
    renderKey,
    audienceKey: `${decisionKey}\0${renderKey}\0${subscription.topic}`,
  }
}

/** A signed-in record's stable name, for owners and per-caller limits. */
export function ownerOf(caller: Caller): string | null {
  if (!caller.auth) return null
  return `${caller.auth.collection.id}:${String(caller.auth.record.id)}`
}

/**
 * Callers whose rule decisions are the same: one anonymous group, one per superuser
 * record, and one per signed-in record and API key (whose scopes narrow it).
 */
export function identityKey(caller: Caller): string {
  const owner = ownerOf(caller)
  if (!owner) return caller.isSuperuser ? 'system' : 'anonymous'
  return caller.apiKey ? `${owner}:key:${caller.apiKey.id}` : owner
}

/**
 * One connected client: its identity, its subscriptions and how far through the event
 * stream it is. `position` only grows, so no event is sent twice or out of order.
 */
export class RealtimeClient {
  subscriptions: KeyedSubscription[] = []
  /** The last event seq this client has been considered for. */
  position: number
  /** False while events it missed are read from the outbox (after `Last-Event-ID`). */
  isLive: boolean
  /** The seq to resume after once the client has said what it subscribes to. */
  resumeAfter: number | null
  /** Set by the first signed-in request; later ones must come from the same record. */
  owner: string | null
  identity: Identity
  isEnded = false

  constructor(
    readonly id: string,
    readonly transport: Transport,
    identity: Identity,
    /** The name its connection counts under for the per-caller limit. */
    public limitKey: string,
    position: number,
    resumeAfter: number | null,
  ) {
    this.identity = identity
    this.owner = ownerOf(identity.caller)
    this.position = position
    this.resumeAfter = resumeAfter
    this.isLive = resumeAfter === null
  }
}
