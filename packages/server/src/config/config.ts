import { isIP } from 'node:net'
import { resolve } from 'node:path'
import { type BackupsConfig, backupsConfig } from './backups-config.js'
import { type CacheConfig, cacheConfig } from './cache-config.js'
import { type ClusterConfig, clusterConfig } from './cluster-config.js'
import { byteSize, ConfigError, type Env, flag, integer, oneOf } from './env-values.js'
import { type FilesConfig, filesConfig } from './files-config.js'
import {
  type MetricsConfig,
  metricsConfig,
  nodeId,
  type RequestLogsConfig,
  requestLogsConfig,
  type TracesConfig,
  tracesConfig,
} from './observability-config.js'

export interface PlinthConfig {
  host: string
  port: number
  /** Folder for the SQLite file, the instance secret and other local state. */
  dataDir: string
  /** postgres://… switches to PostgreSQL; null keeps the embedded SQLite. */
  databaseUrl: string | null
  /** Base URL as clients see it: links in the log and the `iss` of tokens. */
  publicUrl: string
  /** Names this process in log lines, metric labels and request logs, so a cluster's output can be told apart. */
  nodeId: string
  /** Instance secret that encrypts signing keys; null reads or creates a key file in dataDir. */
  secret: string | null
  /** Largest accepted JSON body, in bytes. */
  bodyLimit: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'
  /** `auto` writes readable lines when stdout is a terminal and JSON lines otherwise. */
  logFormat: 'auto' | 'pretty' | 'json'
  /** Access token lifetime in seconds. */
  tokenTtl: number
  /** How long a session (and so its refresh tokens) lasts, in seconds. */
  sessionTtl: number
  /** How recent a sign-in must be, in seconds, to add second factors or create API keys. */
  reauthWindow: number
  sqliteSync: 'full' | 'normal'
  statementTimeoutMs: number
  poolSize: number
  /** PostgreSQL: statements with values go as named prepared statements (off behind a pooler that cannot keep them). */
  preparedStatements: boolean
  /** How long graceful shutdown waits for in-flight requests, in ms. */
  shutdownTimeoutMs: number
  /**
   * How long a node told to stop (SIGTERM) serves on as before while its readiness fails,
   * so that load balancers checking it stop sending, before it stops accepting, in ms.
   */
  drainDelayMs: number
  /** Proxies whose X-Forwarded-* headers are believed (Fastify's trustProxy). */
  trustProxy: boolean | string[]
  /** Request rate limits; PLINTH_RATE_LIMITS=off turns them all off. */
  rateLimits: RateLimits
  /** Origins CORS lets read answers: exact origins, `*` (any, without credentials), or none. */
  corsOrigins: string[] | '*'
  /** smtp:// or smtps:// URL of the mail server; null writes mails to the log (development). */
  smtpUrl: string | null
  /** The From header of the mails Plinth sends. */
  mailFrom: string
  /** The app's name in mails ({{APP_NAME}}). */
  appName: string
  /** Passkeys: the WebAuthn RP ID (a domain) and the page origins allowed to use it. */
  webauthn: { rpId: string; origins: string[] }
  /** The project's plinth.config.ts (hooks, routes), or null for none. */
  projectConfig: string | null
  /**
   * The job worker: attempts at once in this process, idle polling in ms, days finished jobs
   * are kept, and how long past an attempt's timeout another node takes over a job whose
   * worker died.
   */
  jobs: { concurrency: number; pollIntervalMs: number; retentionDays: number; leaseMarginMs: number }
  /** The outbox and what delivers it. */
  events: EventsConfig
  webhooks: WebhooksConfig
  realtime: RealtimeConfig
  /** Where files are stored and what an upload may be. */
  files: FilesConfig
  /** Who may read `/api/metrics` besides superusers, and how long costly readings are reused. */
  metrics: MetricsConfig
  /** How long request logs are kept (0: not at all), and from what rate they are sampled. */
  requestLogs: RequestLogsConfig
  /** Where OpenTelemetry spans go (null endpoint: tracing off), and which traces are kept. */
  traces: TracesConfig
  /** What nodes share (Redis), where the read cache lives (memcached). */
  cluster: ClusterConfig
  /** The read cache of record answers, and what caches in front of Plinth may keep. */
  cache: CacheConfig
  /** Scheduled backups: when, how many are kept, where they go. */
  backups: BackupsConfig
}

export interface EventsConfig {
  /** How often a node looks for events other nodes wrote, in ms (its own commits wake it at once). */
  pollIntervalMs: number
  /** Days events are kept: the window in which realtime clients resume without a reset. */
  retentionDays: number
  /** How long a node holds a durable consumer (webhooks, a broker) before another may take it over, in ms. */
  leaseMs: number
  /** Message brokers that receive every event; null leaves one off. */
  amqpUrl: string | null
  natsUrl: string | null
  mqttUrl: string | null
}

export interface WebhooksConfig {
  /** Lets endpoints on private, loopback and link-local addresses be called. */
  allowPrivate: boolean
  /** Attempts of one delivery before it is dead-lettered. */
  maxAttempts: number
  /** The first retry's delay in ms; each later one doubles it (with jitter). */
  retryBaseMs: number
  /** How long one attempt may take, in ms. */
  timeoutMs: number
  /** Addresses (IPs or CIDR ranges) that may be called even though they are private. */
  allowAddresses: string[]
  /** Consecutive failures after which an endpoint is paused. */
  breakerThreshold: number
  /** How long a paused endpoint waits before one delivery probes it, in ms. */
  breakerPauseMs: number
}

export interface RealtimeConfig {
  /** How often an idle stream gets a heartbeat, in ms, so proxies and clients know it is alive. */
  heartbeatMs: number
  /** Subscriptions one client may hold at once. */
  maxSubscriptions: number
  /** Open streams one caller may hold at once: per signed-in record, or per IP when anonymous. */
  maxConnectionsPerCaller: number
  /** Bytes waiting in one client's socket before the client is dropped as too slow. */
  maxBufferBytes: number
}

/** At most `max` requests per `windowMs` for one client. */
export interface RateLimit {
  max: number
  windowMs: number
}

export interface RateLimits {
  enabled: boolean
  /** Sign-in, one-time codes and password resets. */
  auth: RateLimit
  /** Creating records of an auth collection without being a superuser. */
  signUp: RateLimit
  /** Everything else; superusers are exempt. */
  api: RateLimit
}

export const defaultRateLimits: RateLimits = {
  enabled: true,
  auth: { max: 30, windowMs: 60_000 },
  signUp: { max: 20, windowMs: 60_000 },
  api: { max: 1000, windowMs: 10_000 },
}

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

function databaseUrl(env: Env): string | null {
  const raw = env.PLINTH_DATABASE_URL?.trim()
  if (!raw) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ConfigError('PLINTH_DATABASE_URL', 'not a URL')
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new ConfigError('PLINTH_DATABASE_URL', `only postgres:// URLs are supported, got ${url.protocol}//`)
  return raw
}

/** A limit such as 30/60s, 1000/10s or 5/1m. */
function rateLimit(env: Env, key: string, fallback: RateLimit): RateLimit {
  const raw = env[key]
  if (raw === undefined || raw === '') return fallback
  const match = /^(\d+)\s*\/\s*(\d+)\s*(s|m|h)$/i.exec(raw.trim())
  if (!match) throw new ConfigError(key, `expected requests/window such as 30/60s or 1000/10s, got "${raw}"`)
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[match[3]!.toLowerCase() as 's' | 'm' | 'h']
  const limit = { max: Number(match[1]), windowMs: Number(match[2]) * unit }
  if (limit.max < 1 || limit.windowMs < 1000 || limit.windowMs > 86_400_000)
    throw new ConfigError(key, 'needs at least 1 request and a window from 1s to 24h')
  return limit
}

function rateLimits(env: Env): RateLimits {
  return {
    enabled: oneOf(env, 'PLINTH_RATE_LIMITS', ['on', 'off'] as const, 'on') === 'on',
    auth: rateLimit(env, 'PLINTH_RATE_LIMIT_AUTH', defaultRateLimits.auth),
    signUp: rateLimit(env, 'PLINTH_RATE_LIMIT_SIGNUP', defaultRateLimits.signUp),
    api: rateLimit(env, 'PLINTH_RATE_LIMIT_API', defaultRateLimits.api),
  }
}

function corsOrigins(env: Env): string[] | '*' {
  const raw = env.PLINTH_CORS_ORIGINS?.trim()
  if (!raw) return []
  if (raw === '*') return '*'
  return raw.split(',').map((part) => {
    const origin = part.trim()
    // Browsers send the Origin header as scheme://host[:port], and it is compared exactly.
    if (!/^https?:\/\//.test(origin) || !URL.canParse(origin) || new URL(origin).origin !== origin)
      throw new ConfigError(
        'PLINTH_CORS_ORIGINS',
        `"${origin}" is not an origin such as https://app.example.com`,
      )
    return origin
  })
}

function smtpUrl(env: Env): string | null {
  const raw = env.PLINTH_SMTP_URL?.trim()
  if (!raw) return null
  if (!URL.canParse(raw) || !['smtp:', 'smtps:'].includes(new URL(raw).protocol))
    throw new ConfigError(
      'PLINTH_SMTP_URL',
      'expected smtp://user:pass@host:587 or smtps://user:pass@host:465',
    )
  return raw
}

/** A single header line: a line break would let a value add headers of its own. */
function headerText(env: Env, key: string, fallback: string, max: number): string {
  const raw = env[key]?.trim()
  if (!raw) return fallback
  if (/[\r\n]/.test(raw) || raw.length > max)
    throw new ConfigError(key, `expected one line of at most ${max} characters`)
  return raw
}

function trustProxy(env: Env): boolean | string[] {
  const raw = env.PLINTH_TRUSTED_PROXIES?.trim()
  if (!raw) return false
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
}

/**
 * The RP ID defaults to the public URL's host name and the origins to its origin. Each
 * origin must be on the RP ID or a subdomain of it, or browsers refuse the passkey.
 */
function webauthn(env: Env, publicUrl: string): { rpId: string; origins: string[] } {
  const rpId = env.PLINTH_WEBAUTHN_RP_ID?.trim().toLowerCase() || new URL(publicUrl).hostname
  if (!/^[a-z0-9.-]{1,253}$/.test(rpId) && !/^\[[0-9a-f:]+\]$/.test(rpId))
    throw new ConfigError('PLINTH_WEBAUTHN_RP_ID', `expected a domain such as example.com, got "${rpId}"`)
  const raw = env.PLINTH_WEBAUTHN_ORIGINS?.trim()
  const origins = raw ? raw.split(',').map((part) => part.trim()) : [new URL(publicUrl).origin]
  for (const origin of origins) {
    let url: URL | undefined
    try {
      url = new URL(origin)
    } catch {}
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== origin)
      throw new ConfigError(
        'PLINTH_WEBAUTHN_ORIGINS',
        `"${origin}" is not an origin such as https://app.example.com`,
      )
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`))
      throw new ConfigError(
        'PLINTH_WEBAUTHN_ORIGINS',
        `"${origin}" is not on the RP ID ${rpId} or a subdomain of it`,
      )
  }
  return { rpId, origins }
}

function resolveIfSet(path: string | undefined): string | null {
  return path ? resolve(path) : null
}

/**
 * Reads the configuration from PLINTH_* variables, with explicit overrides
 * (the CLI's flags) on top. Throws ConfigError naming the offending key.
 */
export function loadConfig(env: Env = process.env, overrides: Partial<PlinthConfig> = {}): PlinthConfig {
  const host = overrides.host ?? env.PLINTH_HOST ?? '127.0.0.1'
  const port = overrides.port ?? integer(env, 'PLINTH_PORT', 8090, 0, 65535)
  const publicUrl = (
    overrides.publicUrl ??
    env.PLINTH_PUBLIC_URL ??
    `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  ).replace(/\/+$/, '')
  try {
    new URL(publicUrl)
  } catch {
    throw new ConfigError('PLINTH_PUBLIC_URL', `not a URL: "${publicUrl}"`)
  }
  const secret = overrides.secret ?? env.PLINTH_SECRET ?? null
  if (secret !== null && secret.length < 32)
    throw new ConfigError('PLINTH_SECRET', 'must be at least 32 characters')
  const dataDir = resolve(overrides.dataDir ?? env.PLINTH_DATA_DIR ?? 'plinth_data')
  return {
    host,
    port,
    dataDir,
    databaseUrl: overrides.databaseUrl !== undefined ? overrides.databaseUrl : databaseUrl(env),
    publicUrl,
    nodeId: overrides.nodeId ?? nodeId(env),
    secret,
    bodyLimit: overrides.bodyLimit ?? byteSize(env, 'PLINTH_BODY_LIMIT', 1024 * 1024),
    logLevel: overrides.logLevel ?? oneOf(env, 'PLINTH_LOG_LEVEL', logLevels, 'info'),
    logFormat:
      overrides.logFormat ?? oneOf(env, 'PLINTH_LOG_FORMAT', ['auto', 'pretty', 'json'] as const, 'auto'),
    tokenTtl: overrides.tokenTtl ?? integer(env, 'PLINTH_TOKEN_TTL', 900, 30, 86_400),
    sessionTtl: overrides.sessionTtl ?? integer(env, 'PLINTH_SESSION_TTL', 30 * 86_400, 300, 365 * 86_400),
    reauthWindow: overrides.reauthWindow ?? integer(env, 'PLINTH_REAUTH_WINDOW', 600, 60, 86_400),
    sqliteSync: overrides.sqliteSync ?? oneOf(env, 'PLINTH_SQLITE_SYNC', ['full', 'normal'] as const, 'full'),
    statementTimeoutMs:
      overrides.statementTimeoutMs ?? integer(env, 'PLINTH_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    poolSize: overrides.poolSize ?? integer(env, 'PLINTH_DB_POOL_SIZE', 10, 1, 500),
    preparedStatements:
      overrides.preparedStatements ??
      oneOf(env, 'PLINTH_DB_PREPARED_STATEMENTS', ['on', 'off'] as const, 'on') === 'on',
    shutdownTimeoutMs:
      overrides.shutdownTimeoutMs ?? integer(env, 'PLINTH_SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    drainDelayMs: overrides.drainDelayMs ?? integer(env, 'PLINTH_DRAIN_DELAY_MS', 1000, 0, 600_000),
    trustProxy: overrides.trustProxy ?? trustProxy(env),
    rateLimits: overrides.rateLimits ?? rateLimits(env),
    corsOrigins: overrides.corsOrigins ?? corsOrigins(env),
    smtpUrl: overrides.smtpUrl !== undefined ? overrides.smtpUrl : smtpUrl(env),
    mailFrom: overrides.mailFrom ?? headerText(env, 'PLINTH_MAIL_FROM', 'Plinth <no-reply@localhost>', 320),
    appName: overrides.appName ?? headerText(env, 'PLINTH_APP_NAME', 'Plinth', 100),
    webauthn: overrides.webauthn ?? webauthn(env, publicUrl),
    projectConfig:
      overrides.projectConfig !== undefined ? overrides.projectConfig : resolveIfSet(env.PLINTH_CONFIG),
    jobs: overrides.jobs ?? {
      concurrency: integer(env, 'PLINTH_JOBS_CONCURRENCY', 4, 1, 100),
      pollIntervalMs: integer(env, 'PLINTH_JOBS_POLL_INTERVAL_MS', 1000, 10, 60_000),
      retentionDays: integer(env, 'PLINTH_JOBS_RETENTION_DAYS', 7, 1, 3650),
      leaseMarginMs: integer(env, 'PLINTH_JOBS_LEASE_MARGIN_MS', 30_000, 100, 3_600_000),
    },
    events: overrides.events ?? {
      pollIntervalMs: integer(env, 'PLINTH_EVENTS_POLL_INTERVAL_MS', 250, 10, 60_000),
      retentionDays: integer(env, 'PLINTH_EVENTS_RETENTION_DAYS', 7, 1, 3650),
      leaseMs: integer(env, 'PLINTH_EVENTS_LEASE_MS', 30_000, 1000, 3_600_000),
      amqpUrl: brokerUrl(env, 'PLINTH_EVENTS_AMQP_URL', ['amqp:', 'amqps:']),
      natsUrl: brokerUrl(env, 'PLINTH_EVENTS_NATS_URL', ['nats:', 'tls:']),
      mqttUrl: brokerUrl(env, 'PLINTH_EVENTS_MQTT_URL', ['mqtt:', 'mqtts:', 'ws:', 'wss:']),
    },
    webhooks: overrides.webhooks ?? {
      allowPrivate: flag(env, 'PLINTH_WEBHOOKS_ALLOW_PRIVATE'),
      maxAttempts: integer(env, 'PLINTH_WEBHOOKS_MAX_ATTEMPTS', 15, 1, 50),
      retryBaseMs: integer(env, 'PLINTH_WEBHOOKS_RETRY_BASE_MS', 10_000, 10, 3_600_000),
      timeoutMs: integer(env, 'PLINTH_WEBHOOKS_TIMEOUT_MS', 10_000, 100, 120_000),
      allowAddresses: addressList(env, 'PLINTH_WEBHOOKS_ALLOW_ADDRESSES'),
      breakerThreshold: integer(env, 'PLINTH_WEBHOOKS_BREAKER_THRESHOLD', 10, 1, 1000),
      breakerPauseMs: integer(env, 'PLINTH_WEBHOOKS_BREAKER_PAUSE_MS', 60_000, 10, 86_400_000),
    },
    realtime: overrides.realtime ?? {
      heartbeatMs: integer(env, 'PLINTH_REALTIME_HEARTBEAT_MS', 25_000, 10, 600_000),
      maxSubscriptions: integer(env, 'PLINTH_REALTIME_MAX_SUBSCRIPTIONS', 100, 1, 1000),
      maxConnectionsPerCaller: integer(env, 'PLINTH_REALTIME_MAX_CONNECTIONS', 100, 1, 1_000_000),
      maxBufferBytes: byteSize(env, 'PLINTH_REALTIME_MAX_BUFFER', 1024 * 1024),
    },
    files: overrides.files ?? filesConfig(env, dataDir),
    metrics: overrides.metrics ?? metricsConfig(env),
    requestLogs: overrides.requestLogs ?? requestLogsConfig(env),
    traces: overrides.traces ?? tracesConfig(env),
    cluster: overrides.cluster ?? clusterConfig(env),
    cache: overrides.cache ?? cacheConfig(env),
    backups: overrides.backups ?? backupsConfig(env),
  }
}

function brokerUrl(env: Env, key: string, protocols: string[]): string | null {
  const raw = env[key]?.trim()
  if (!raw) return null
  if (!URL.canParse(raw) || !protocols.includes(new URL(raw).protocol))
    throw new ConfigError(key, `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`)
  return raw
}

function addressList(env: Env, key: string): string[] {
  const raw = env[key]?.trim()
  if (!raw) return []
  return raw.split(',').map((part) => {
    const [address = '', bits, ...rest] = part.trim().split('/')
    const family = isIP(address)
    const maxBits = family === 6 ? 128 : 32
    if (
      family === 0 ||
      rest.length > 0 ||
      (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))
    )
      throw new ConfigError(
        key,
        `expected IP addresses or CIDR ranges separated by commas, got "${part.trim()}"`,
      )
    return part.trim()
  })
}
