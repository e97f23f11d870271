import type { ClusterConfig } from '../config/index.js'
import { type CacheStore, MemcachedCacheStore, ProcessCacheStore, RedisCacheStore } from './stores.js'

export { readCaching } from './plugin.js'
export { type CachedRead, ReadCache, type ReadCacheDependencies } from './read-cache.js'
export type { CacheStore } from './stores.js'

/** Memcached when configured, else Redis when configured, else this process. */
export function openCacheStore(cluster: ClusterConfig, maxBytes: number): CacheStore {
  if (cluster.memcachedUrl) return new MemcachedCacheStore(cluster.memcachedUrl)
  if (cluster.redisUrl) return new RedisCacheStore(cluster.redisUrl, `${cluster.redisPrefix}cache:`)
  return new ProcessCacheStore(maxBytes)
}
