import { byteSize, type Env, integer, oneOf } from './env-values.js'

export interface CacheConfig {
  /** Answers of record lists and views are kept and reused until a write makes them stale. */
  enabled: boolean
  /** Seconds an answer is kept at most, written or not. */
  ttlSeconds: number
  /** Bytes the cache may hold in this process (Redis and memcached have their own limits). */
  maxBytes: number
  /**
   * `max-age` of answers to anonymous callers, which caches in front (nginx, Varnish, CDNs)
   * may keep that long; 0 lets them keep an answer only if they ask again with its ETag.
   */
  httpMaxAge: number
}

export function cacheConfig(env: Env): CacheConfig {
  return {
    enabled: oneOf(env, 'PLINTH_CACHE', ['on', 'off'], 'on') === 'on',
    ttlSeconds: integer(env, 'PLINTH_CACHE_TTL', 300, 1, 86_400),
    // Lists, where the cache saves most, are few and small; a larger budget mostly holds
    // single records, which SQLite reads by id about as fast as the cache answers them.
    maxBytes: byteSize(env, 'PLINTH_CACHE_MAX_SIZE', 16 * 1024 * 1024),
    httpMaxAge: integer(env, 'PLINTH_HTTP_MAX_AGE', 0, 0, 31_536_000),
  }
}
