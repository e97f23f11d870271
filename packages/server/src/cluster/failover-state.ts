import type { RedisState } from './redis-state.js'
import type { Channel, SharedState, WindowCount } from './shared-state.js'

/**
 * Redis while it answers, the fallback (the database, or the process) while it does
 * not. Listeners hear both, so a message sent either way arrives; every listener
 * acts idempotently, so one heard twice costs nothing. Counts restart when the
 * store changes: for a window, a limit is a little looser, never stricter.
 */
export class FailoverState implements SharedState {
  readonly kind = 'redis'

  constructor(
    private readonly redis: RedisState,
    private readonly fallback: SharedState,
  ) {}

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    if (!this.redis.isUp) return this.fallback.increment(key, windowMs)
    return this.redis.increment(key, windowMs).catch(() => this.fallback.increment(key, windowMs))
  }

  async peek(key: string): Promise<WindowCount> {
    if (!this.redis.isUp) return this.fallback.peek(key)
    return this.redis.peek(key).catch(() => this.fallback.peek(key))
  }

  async publish(channel: Channel, message?: string): Promise<void> {
    if (!this.redis.isUp) return this.fallback.publish(channel, message)
    await this.redis.publish(channel, message).catch(() => this.fallback.publish(channel, message))
  }

  subscribe(channel: Channel, listener: (message: string) => void): () => void {
    const stops = [this.redis.subscribe(channel, listener), this.fallback.subscribe(channel, listener)]
    return () => {
      for (const stop of stops) stop()
    }
  }

  status() {
    return this.redis.status()
  }

  async close(): Promise<void> {
    await this.redis.close()
    await this.fallback.close()
  }
}
