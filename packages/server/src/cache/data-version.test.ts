import { expect, test } from 'vitest'
import type { CacheConfig } from '../config/index.js'
import { ReadCache, type ReadCacheDependencies } from './read-cache.js'
import { ProcessCacheStore } from './stores.js'

const config: CacheConfig = { enabled: true, ttlSeconds: 60, maxBytes: 1024 * 1024, httpMaxAge: 0 }

/** A node's read cache that has settled every event up to `settled`. */
function settledAt(settled: number) {
  const cache = new ReadCache(
    {
      store: new ProcessCacheStore(config.maxBytes),
      schemaVersion: () => 1,
    } as unknown as ReadCacheDependencies,
    config,
  )
  cache.settle(settled)
  return cache
}

test("a node's own write moves the version off the shared one until that write is settled", () => {
  const cache = settledAt(10)
  cache.invalidate(11)
  expect(cache.dataVersion).toMatch(/^l/)

  cache.settle(11)
  expect(cache.dataVersion).toBe('s11')
})

test('a write already settled by a poll or a notice leaves the shared version as it is', () => {
  const cache = settledAt(12)
  cache.invalidate(11)
  expect(cache.dataVersion).toBe('s12')
  cache.invalidate(12)
  expect(cache.dataVersion).toBe('s12')
})

test('the version never settles back before the newest write of the node', () => {
  const cache = settledAt(10)
  cache.invalidate(14)
  cache.settle(12)
  expect(cache.dataVersion).toMatch(/^l/)
  cache.settle(14)
  expect(cache.dataVersion).toBe('s14')
})

test('a write that left no event always moves the version', () => {
  const cache = settledAt(10)
  const before = cache.dataVersion
  cache.invalidate()
  expect(cache.dataVersion).not.toBe(before)
  expect(cache.dataVersion).toMatch(/^l/)
})
