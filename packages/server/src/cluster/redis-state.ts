import type { Redis } from 'ioredis'
import type { Logger } from 'pino'
import type { Channel, SharedState, WindowCount } from './shared-state.js'

/** Counts a hit and opens the window with the first one, in one round trip that no other client can split. */
const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`

/** A command Redis has not answered in this time fails, and the fallback serves it: a hung Redis must not hang requests. */
const COMMAND_TIMEOUT_MS = 500
const MAX_RECONNECT_MS = 2000

type IncrementingRedis = Redis & { plinthIncrement(key: string, windowMs: number): Promise<[number, number]> }

export interface RedisStateOptions {
  url: string
  /** Before every key and channel, so deployments can share one Redis. */
  prefix: string
  log: Pick<Logger, 'warn' | 'info'>
}

/**
 * Shared state in Redis (or Valkey). Commands fail at once while Redis is away
 * (no offline queue): the caller falls back rather than waits. Both connections
 * come back by themselves, and the subscriber subscribes to every channel again.
 */
export class RedisState implements SharedState {
  readonly kind = 'redis'
  readonly #client: IncrementingRedis
  readonly #subscriber: Redis
  readonly #listeners = new Map<string, Set<(message: string) => void>>()
  readonly #prefix: string
  #wasUp = false

  /** ioredis loads only where Redis is configured: it adds about 100 ms to every start. */
  static async open(options: RedisStateOptions): Promise<RedisState> {
    const { Redis } = await import('ioredis')
    return new RedisState(options, Redis)
  }

  private constructor(options: RedisStateOptions, RedisClient: typeof Redis) {
    this.#prefix = options.prefix
    const settings = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: (attempt: number) => Math.min(MAX_RECONNECT_MS, 50 * attempt),
    }
    this.#client = new RedisClient(options.url, settings) as IncrementingRedis
    this.#client.defineCommand('plinthIncrement', { numberOfKeys: 1, lua: INCREMENT })
    // Channels are subscribed again on every connection, the first included: a SUBSCRIBE
    // queued before a connection that failed is dropped with it, and ioredis restores
    // only the channels Redis had confirmed, so a node started before Redis answered
    // would never hear the others.
    this.#subscriber = new RedisClient(options.url, {
      ...settings,
      commandTimeout: undefined,
      autoResubscribe: false,
    })
    this.#subscriber.on('ready', () => {
      const channels = [...this.#listeners.keys()]
      if (channels.length > 0) this.#subscriber.subscribe(...channels).catch(() => {})
    })
    this.#client.on('ready', () => {
      if (!this.#wasUp) options.log.info('Redis answers: shared state is in Redis')
      this.#wasUp = true
    })
    // Without a listener ioredis prints every failed reconnect; one line per outage says enough.
    this.#client.on('error', (error) => {
      if (this.#wasUp)
        options.log.warn({ err: error }, 'Redis is away: shared state falls back until it answers again')
      this.#wasUp = false
    })
    this.#subscriber.on('error', () => {})
    this.#subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.#listeners.get(channel) ?? []) listener(message)
    })
  }

  /** Whether commands can be sent now. */
  get isUp(): boolean {
    return this.#client.status === 'ready'
  }

  async increment(key: string, windowMs: number): Promise<WindowCount> {
    const [count, ttlMs] = await this.#client.plinthIncrement(`${this.#prefix}count:${key}`, windowMs)
    return { count, ttlMs }
  }

  async peek(key: string): Promise<WindowCount> {
    const name = `${this.#prefix}count:${key}`
    const [count, ttlMs] = await Promise.all([this.#client.get(name), this.#client.pttl(name)])
    return count === null || ttlMs <= 0 ? { count: 0, ttlMs: 0 } : { count: Number(count), ttlMs }
  }

  /** Unlike the other kinds this one throws, so that the failover can send the message another way. */
  async publish(channel: Channel, message = ''): Promise<void> {
    await this.#client.publish(`${this.#prefix}${channel}`, message)
  }

  subscribe(channel: Channel, listener: (message: string) => void): () => void {
    const name = `${this.#prefix}${channel}`
    let listeners = this.#listeners.get(name)
    if (!listeners) {
      listeners = new Set()
      this.#listeners.set(name, listeners)
      if (this.#subscriber.status === 'ready') this.#subscriber.subscribe(name).catch(() => {})
    }
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
    }
  }

  status() {
    return this.isUp ? ('ok' as const) : ('degraded' as const)
  }

  async close(): Promise<void> {
    this.#client.disconnect()
    this.#subscriber.disconnect()
  }
}
