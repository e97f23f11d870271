import { LRUCache } from 'lru-cache'

export interface RateLimitCount {
  current: number
  /** Milliseconds until the window of this key ends. */
  ttl: number
}

type Callback = (error: Error | null, result?: RateLimitCount) => void

/**
 * What @fastify/rate-limit asks of a store. A shared store (Redis, for several
 * nodes) implements the same three methods.
 */
export interface RateLimitStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void
  read(key: string, callback: Callback, timeWindow: number, max: number): void
  child(routeOptions: unknown): RateLimitStore
}

export type RateLimitStoreClass = new (options: unknown) => RateLimitStore

interface Window {
  count: number
  started: number
}

/** Most clients one node keeps counts for; the least recently seen are forgotten first. */
const MAX_KEYS = 100_000

/**
 * Fixed windows per key, in this process. Reads the clock through Date.now, so a
 * test can move time with fake timers instead of waiting.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #windows = new LRUCache<string, Window>({ max: MAX_KEYS })

  incr(key: string, callback: Callback, timeWindow: number): void {
    const now = Date.now()
    let window = this.#windows.get(key)
    if (!window || window.started + timeWindow <= now) {
      window = { count: 0, started: now }
      this.#windows.set(key, window)
    }
    window.count += 1
    callback(null, { current: window.count, ttl: window.started + timeWindow - now })
  }

  read(key: string, callback: Callback, timeWindow: number): void {
    const now = Date.now()
    const window = this.#windows.get(key)
    if (!window || window.started + timeWindow <= now) callback(null, { current: 0, ttl: 0 })
    else callback(null, { current: window.count, ttl: window.started + timeWindow - now })
  }

  child(): RateLimitStore {
    return new MemoryRateLimitStore()
  }
}
