import type { Redis } from 'ioredis'
import { LRUCache } from 'lru-cache'
import type memjs from 'memjs'
import { FrequencySketch } from './frequency-sketch.js'

/**
 * Where cached answers live. A store that fails answers as a miss: the cache may only
 * ever make a request faster, never fail it.
 */
export interface CacheStore {
  readonly kind: 'process' | 'redis' | 'memcached'
  get(key: string): Promise<string | undefined>
  set(key: string, value: string, ttlSeconds: number): Promise<void>
  /**
   * The data version has moved on: nothing kept so far will be asked for again, here. A store
   * shared by nodes, whose entries other nodes may still ask for, has no such method.
   */
  retire?(): void
  close(): Promise<void>
}

/** An answer's size as the budget counts it: strings at two bytes a character, what V8 may hold them in. */
const sizeOf = (value: string, key: string) => 2 * (value.length + key.length)
/** About what an answer takes, to size the frequency sketch for the answers a budget holds. */
const TYPICAL_ENTRY_BYTES = 1024

interface Kept {
  value: string
  /** The retirement this entry was kept after: an entry of an older one can no longer be asked for. */
  generation: number
}

/**
 * Answers in this process, least recently used first out, behind an admission rule: once
 * the budget is full, a new answer takes the place of the least recently used one only if
 * it has been asked for more often lately, or if that one has expired or is of a data version
 * retired since.
 * Plain LRU keeps nothing that is asked for again when reads go round more answers than it
 * holds (a crawler, an export, a client paging through everything): each new answer pushes
 * out the one that would be asked for next. With the rule a fixed part stays and is served,
 * and a scan cannot push out what is asked for often.
 */
export class ProcessCacheStore implements CacheStore {
  readonly kind = 'process'
  readonly #entries: LRUCache<string, Kept>
  readonly #asked: FrequencySketch
  #generation = 0

  constructor(maxBytes: number) {
    this.#entries = new LRUCache({
      maxSize: maxBytes,
      sizeCalculation: (kept, key) => sizeOf(kept.value, key),
      // So that the walk from the least recently used end yields expired entries rather than
      // stepping over them: once many had expired, finding the victim walked over all of them
      // for every answer kept. Reads ask for live entries only.
      allowStale: true,
    })
    this.#asked = new FrequencySketch(maxBytes / TYPICAL_ENTRY_BYTES)
  }

  retire(): void {
    this.#generation++
  }

  async get(key: string): Promise<string | undefined> {
    this.#asked.increment(key)
    return this.#entries.get(key, { allowStale: false })?.value
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    const size = sizeOf(value, key)
    if (size > this.#entries.maxSize || !this.#admits(key, size)) return
    this.#entries.set(key, { value, generation: this.#generation }, { ttl: ttlSeconds * 1000 })
  }

  #admits(key: string, size: number): boolean {
    if (this.#entries.calculatedSize + size <= this.#entries.maxSize) return true
    const victim = this.#entries.rkeys().next().value
    if (victim === undefined || this.#entries.getRemainingTTL(victim) < 0) return true
    const kept = this.#entries.peek(victim)
    if (!kept || kept.generation !== this.#generation) return true
    return this.#asked.estimate(key) > this.#asked.estimate(victim)
  }

  async close(): Promise<void> {
    this.#entries.clear()
  }
}

/** A command Redis has not answered in this time counts as a miss. */
const REDIS_TIMEOUT_MS = 200

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis'
  readonly #client: Redis

  /** ioredis loads only where Redis is configured: it adds about 100 ms to every start. */
  static async open(url: string, prefix: string): Promise<RedisCacheStore> {
    const { Redis } = await import('ioredis')
    return new RedisCacheStore(url, prefix, Redis)
  }

  private constructor(
    url: string,
    private readonly prefix: string,
    RedisClient: typeof Redis,
  ) {
    this.#client = new RedisClient(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: REDIS_TIMEOUT_MS,
      retryStrategy: (attempt) => Math.min(2000, 50 * attempt),
    })
    // The shared state reports Redis outages; the cache only misses meanwhile.
    this.#client.on('error', () => {})
  }

  async get(key: string): Promise<string | undefined> {
    if (this.#client.status !== 'ready') return undefined
    return (await this.#client.get(this.prefix + key).catch(() => null)) ?? undefined
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (this.#client.status !== 'ready') return
    await this.#client.set(this.prefix + key, value, 'EX', ttlSeconds).catch(() => {})
  }

  async close(): Promise<void> {
    this.#client.disconnect()
  }
}

/** Memcached refuses values over 1 MB by default; larger answers are simply not kept there. */
const MEMCACHED_MAX_VALUE = 1024 * 1024 - 1024
/** How long a memcached call may take before it counts as a miss. */
const MEMCACHED_DEADLINE_MS = 250

export class MemcachedCacheStore implements CacheStore {
  readonly kind = 'memcached'
  readonly #client: memjs.Client

  /** memjs loads only where memcached is configured. */
  static async open(servers: string): Promise<MemcachedCacheStore> {
    const { default: memcached } = await import('memjs')
    return new MemcachedCacheStore(servers, memcached)
  }

  private constructor(servers: string, memcached: typeof memjs) {
    this.#client = memcached.Client.create(servers, {
      retries: 0,
      timeout: 0.2,
      conntimeout: 0.5,
      logger: { log() {} },
    })
  }

  async get(key: string): Promise<string | undefined> {
    const answer = await withinDeadline(this.#client.get(key))
    return answer?.value?.toString('utf8')
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    if (Buffer.byteLength(value) > MEMCACHED_MAX_VALUE) return
    await withinDeadline(this.#client.set(key, value, { expires: ttlSeconds }))
  }

  async close(): Promise<void> {
    this.#client.close()
  }
}

/**
 * The call's result, or undefined when it fails or outlives the deadline. memjs forgets a
 * call whose connection closes under it (a memcached that is killed) and never settles it.
 */
function withinDeadline<T>(call: Promise<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), MEMCACHED_DEADLINE_MS)
    timer.unref()
    call.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      () => {
        clearTimeout(timer)
        resolve(undefined)
      },
    )
  })
}
