/** What nodes tell each other; each message is a hint its listeners act on idempotently. */
export type Channel =
  /** A write committed events to the outbox (the message is the newest one's number): dispatchers look now rather than at their next poll. */
  | 'events'
  /** Collections changed: nodes reload their definitions. */
  | 'schema'
  /** A session ended (the message is its id): nodes forget the tokens they verified for it. */
  | 'sessions'
  /** Subscriptions for a realtime client another node holds, and that node's answer. */
  | 'realtime'

export interface WindowCount {
  /** Hits in the current window, this one included. */
  count: number
  /** Milliseconds until the window ends. */
  ttlMs: number
}

export type SharedStateStatus = 'ok' | 'degraded'

/**
 * The state nodes of one deployment share: counters of fixed windows (rate limits)
 * and messages to every node. One process keeps it in memory, nodes on PostgreSQL
 * in the database, and with Redis configured in Redis, falling back to the database
 * while Redis is away.
 */
export interface SharedState {
  /** Where it lives, for the health endpoint and the log. */
  readonly kind: 'process' | 'database' | 'redis'
  /** Counts one hit of `key` in a window of `windowMs` that starts with the first hit. */
  increment(key: string, windowMs: number): Promise<WindowCount>
  /** The current window of `key` without counting; zero hits when none is open. */
  peek(key: string): Promise<WindowCount>
  /** Tells every node, this one included. Never throws: a lost message costs only a poll's delay. */
  publish(channel: Channel, message?: string): Promise<void>
  /** Calls `listener` for each message on `channel` until the returned function is called. */
  subscribe(channel: Channel, listener: (message: string) => void): () => void
  /** `degraded` while a configured Redis is away and the fallback serves. */
  status(): SharedStateStatus
  close(): Promise<void>
}
