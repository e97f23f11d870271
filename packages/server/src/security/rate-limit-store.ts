import type { SharedState, WindowCount } from '../cluster/index.js'

export interface RateLimitCount {
  current: number
  /** Milliseconds until the window of this key ends. */
  ttl: number
}

type Callback = (error: Error | null, result?: RateLimitCount) => void

/** What @fastify/rate-limit asks of a store. */
export interface RateLimitStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void
  read(key: string, callback: Callback, timeWindow: number, max: number): void
  child(routeOptions: unknown): RateLimitStore
}

export type RateLimitStoreClass = new (options: unknown) => RateLimitStore

const KEY_PREFIX = 'rate:'

/**
 * A store over the deployment's shared state, so every node counts against the
 * same windows. A store that fails lets the request through (@fastify/rate-limit's
 * skipOnError): a counter outage must not take the API down with it.
 */
export function sharedRateLimitStore(state: SharedState): RateLimitStoreClass {
  const answer = (counting: Promise<WindowCount>, callback: Callback) => {
    counting.then(
      ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
      (error: Error) => callback(error),
    )
  }
  return class SharedRateLimitStore implements RateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      answer(state.increment(KEY_PREFIX + key, timeWindow), callback)
    }

    read(key: string, callback: Callback): void {
      answer(state.peek(KEY_PREFIX + key), callback)
    }

    child(): RateLimitStore {
      return new SharedRateLimitStore()
    }
  }
}
