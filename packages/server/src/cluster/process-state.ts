import { EventEmitter } from 'node:events'
import { LRUCache } from 'lru-cache'
import type { Channel, SharedState, WindowCount } from './shared-state.js'

interface Window {
  count: number
  endsAt: number
}

/** Most counters one process keeps; the least recently used are forgotten first. */
const MAX_KEYS = 100_000

/**
 * Shared state of a single process: all there is to share with on embedded SQLite.
 * The clock is read through Date.now, so tests move time with fake timers.
 */
export class ProcessState implements SharedState {
  readonly kind = 'process'
  readonly #windows = new LRUCache<string, Window>({ max: MAX_KEYS })
  readonly #messages = new EventEmitter().setMaxListeners(0)

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now()
    let window = this.#windows.get(key)
    if (!window || window.endsAt <= now) {
      window = { count: 0, endsAt: now + windowMs }
      this.#windows.set(key, window)
    }
    window.count += 1
    return { count: window.count, ttlMs: window.endsAt - now }
  }

  async peek(key: string): Promise<WindowCount> {
    const now = Date.now()
    const window = this.#windows.get(key)
    return !window || window.endsAt <= now
      ? { count: 0, ttlMs: 0 }
      : { count: window.count, ttlMs: window.endsAt - now }
  }

  async publish(channel: Channel, message = ''): Promise<void> {
    // Later, as the other kinds deliver: a publisher's own listeners never run inside its call.
    queueMicrotask(() => this.#messages.emit(channel, message))
  }

  subscribe(channel: Channel, listener: (message: string) => void): () => void {
    this.#messages.on(channel, listener)
    return () => this.#messages.off(channel, listener)
  }

  status() {
    return 'ok' as const
  }

  async close(): Promise<void> {
    this.#messages.removeAllListeners()
  }
}
