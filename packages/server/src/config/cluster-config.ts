import { ConfigError, type Env, integer } from './env-values.js'

export interface ClusterConfig {
  /** Redis (or Valkey) that carries what nodes share; null keeps it in the database or the process. */
  redisUrl: string | null
  /** Put before every Redis key and channel, so several deployments can share one Redis. */
  redisPrefix: string
  /** Memcached servers (`host:port`, comma-separated) that hold the read cache instead of Redis or the process. */
  memcachedUrl: string | null
  /** PostgreSQL read replicas that serve record lists and views, taken in turn; empty reads from the primary. */
  replicaUrls: string[]
  /** How long a caller's own reads stay on the primary after it wrote, in ms, so it sees its write. */
  replicaStickyMs: number
}

const PREFIX = /^[A-Za-z0-9:_.-]{0,64}$/

function redisUrl(env: Env): string | null {
  const value = env.PLINTH_REDIS_URL?.trim()
  if (!value) return null
  if (!/^rediss?:\/\//.test(value))
    throw new ConfigError('PLINTH_REDIS_URL', `expected a redis:// or rediss:// URL, got "${value}"`)
  return value
}

function memcachedUrl(env: Env): string | null {
  const value = env.PLINTH_MEMCACHED_URL?.trim().replace(/^memcached:\/\//, '')
  if (!value) return null
  if (!value.split(',').every((server) => /^[^\s,/:]+:\d{1,5}$/.test(server)))
    throw new ConfigError('PLINTH_MEMCACHED_URL', `expected host:port[,host:port…], got "${value}"`)
  return value
}

function replicaUrls(env: Env): string[] {
  const raw = env.PLINTH_DATABASE_REPLICA_URLS?.trim()
  if (!raw) return []
  const urls = raw.split(',').map((part) => part.trim())
  for (const url of urls) {
    // The URL itself is not repeated: it may carry a password.
    const parsed = URL.canParse(url) ? new URL(url) : null
    if (!parsed || !['postgres:', 'postgresql:'].includes(parsed.protocol) || !parsed.hostname)
      throw new ConfigError(
        'PLINTH_DATABASE_REPLICA_URLS',
        'expected postgres:// URLs separated by commas, such as postgres://user:pass@replica-1:5432/plinth',
      )
  }
  if (new Set(urls).size !== urls.length)
    throw new ConfigError('PLINTH_DATABASE_REPLICA_URLS', 'names the same replica twice')
  return urls
}

export function clusterConfig(env: Env): ClusterConfig {
  const redisPrefix = env.PLINTH_REDIS_PREFIX ?? 'plinth:'
  if (!PREFIX.test(redisPrefix))
    throw new ConfigError('PLINTH_REDIS_PREFIX', 'expected at most 64 letters, digits and : _ . -')
  return {
    redisUrl: redisUrl(env),
    redisPrefix,
    memcachedUrl: memcachedUrl(env),
    replicaUrls: replicaUrls(env),
    replicaStickyMs: integer(env, 'PLINTH_REPLICA_STICKY_MS', 5000, 0, 600_000),
  }
}
