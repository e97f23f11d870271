import { expect, test } from 'vitest'
import type { CacheConfig } from '../config/index.js'
import { ReadCache, type ReadCacheDependencies } from './read-cache.js'
import type { CacheStore } from './stores.js'

/** A store shared by nodes, as Redis is, that counts the lookups reaching it and never expires. */
function sharedStore() {
  const entries = new Map<string, string>()
  const store: CacheStore & { lookups: number } = {
    kind: 'redis',
    lookups: 0,
    async get(key) {
      store.lookups++
      return entries.get(key)
    },
    async set(key, value) {
      entries.set(key, value)
    },
    async close() {},
  }
  return store
}

const config: CacheConfig = { enabled: true, ttlSeconds: 1, maxBytes: 1024 * 1024, httpMaxAge: 0 }

/** A node's read cache over `store`; only the store matters to keeping and reading entries. */
const nodeCache = (store: CacheStore) =>
  new ReadCache({ store, schemaVersion: () => 1 } as unknown as ReadCacheDependencies, config)

test('a node answers again from its own copy, which expires with the shared entry', async () => {
  const store = sharedStore()
  const writer = nodeCache(store)
  const reader = nodeCache(store)
  await writer.set('k', '"tag"', '{"items":[]}')

  expect(await writer.get('k')).toEqual({ etag: '"tag"', payload: '{"items":[]}' })
  expect(store.lookups).toBe(0)

  expect(await reader.get('k')).toEqual({ etag: '"tag"', payload: '{"items":[]}' })
  expect(await reader.get('k')).toEqual({ etag: '"tag"', payload: '{"items":[]}' })
  expect(store.lookups).toBe(1)

  await new Promise((resolve) => setTimeout(resolve, 1100))
  await reader.get('k')
  await writer.get('k')
  expect(store.lookups).toBe(3)
})

test('an entry too large for the process is still kept in the shared store', async () => {
  const store = sharedStore()
  const cache = new ReadCache({ store, schemaVersion: () => 1 } as unknown as ReadCacheDependencies, {
    ...config,
    maxBytes: 64,
  })
  const payload = JSON.stringify({ items: ['x'.repeat(200)] })
  await cache.set('big', '"tag"', payload)
  expect(await cache.get('big')).toEqual({ etag: '"tag"', payload })
  expect(store.lookups).toBe(1)
})
