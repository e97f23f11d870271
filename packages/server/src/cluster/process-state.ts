import { EventEmitter } from 'node:events'
import type { Channel, SharedState, WindowCount } from './shared-state.js'

interface Window {
  count: number
  endsAt: number
}

/** Most counters one process keeps; the windows started longest ago are forgotten first. */
const MAX_KEYS = 100_000

/**
 * Shared state of a single process: all there is to share with on embedded SQLite.
 * The clock is read through Date.now, so tests move time with fake timers.
 */
export class ProcessState implements SharedState {
  readonly kind = 'process'
  // A Map rather than an LRU cache: lru-cache allocates its arrays for every key it may hold
  // up front (megabytes, and about 15 ms of a start), and a Map keeps windows in the order they
  // started, which is the order to forget them in.
  readonly #windows = new Map<string, Window>()
  readonly #messages = new EventEmitter().setMaxListeners(0)

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now()
    let window = this.#windows.get(key)
    if (!window || window.endsAt <= now) {
      this.#windows.delete(key)
      window = { count: 0, endsAt: now + windowMs }
      this.#windows.set(key, window)
      this.#forgetOldest(now)
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

  /** Two at most per new window, so the map shrinks back as windows end without a sweep. */
  #forgetOldest(now: number): void {
    for (let i = 0; i < 2; i++) {
      const first = this.#windows.entries().next()
      if (first.done) return
      const [oldestKey, oldest] = first.value
      if (oldest.endsAt > now && this.#windows.size <= MAX_KEYS) return
      this.#windows.delete(oldestKey)
    }
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
