import { describe, expect, test } from 'vitest'
import { loadConfig } from './config.js'
import { ConfigError } from './env-values.js'

describe('replica settings', () => {
  const refused = [
    { name: 'not a URL', env: { PLINTH_DATABASE_REPLICA_URLS: 'replica-1:5432' } },
    { name: 'not PostgreSQL', env: { PLINTH_DATABASE_REPLICA_URLS: 'mysql://replica-1/plinth' } },
    { name: 'an empty entry', env: { PLINTH_DATABASE_REPLICA_URLS: 'postgres://replica-1/plinth,' } },
    {
      name: 'the same replica twice',
      env: { PLINTH_DATABASE_REPLICA_URLS: 'postgres://replica-1/plinth,postgres://replica-1/plinth' },
    },
    { name: 'a window that is not a number', env: { PLINTH_REPLICA_STICKY_MS: '5s' } },
    { name: 'a window over ten minutes', env: { PLINTH_REPLICA_STICKY_MS: '600001' } },
  ]

  test.each(refused)('refuses $name, naming the key', ({ env }) => {
    const key = Object.keys(env)[0]!
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(key)
  })

  test('reads the replicas and the window', () => {
    const config = loadConfig({
      PLINTH_DATABASE_REPLICA_URLS: 'postgres://replica-1/plinth, postgresql://replica-2:6432/plinth',
      PLINTH_REPLICA_STICKY_MS: '2000',
    })
    expect(config.cluster.replicaUrls).toEqual([
      'postgres://replica-1/plinth',
      'postgresql://replica-2:6432/plinth',
    ])
    expect(config.cluster.replicaStickyMs).toBe(2000)
    expect(loadConfig({}).cluster).toMatchObject({ replicaUrls: [], replicaStickyMs: 5000 })
  })
})
