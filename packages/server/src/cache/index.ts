import type { ClusterConfig } from '../config/index.js'
import { type CacheStore, MemcachedCacheStore, ProcessCacheStore, RedisCacheStore } from './stores.js'

export { readCaching } from './plugin.js'
export { type CachedRead, ReadCache, type ReadCacheDependencies } from './read-cache.js'
export type { CacheStore } from './stores.js'

/** Memcached when configured, else Redis when configured, else this process. */
export async function openCacheStore(cluster: ClusterConfig, maxBytes: number): Promise<CacheStore> {
  if (cluster.memcachedUrl) return MemcachedCacheStore.open(cluster.memcachedUrl)
  if (cluster.redisUrl) return RedisCacheStore.open(cluster.redisUrl, `${cluster.redisPrefix}cache:`)
  return new ProcessCacheStore(maxBytes)
}
