import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { ConfigError, type Env, integer } from './env-values.js'

export interface MetricsConfig {
  /** A bearer token that may read `/api/metrics` besides superusers; null lets only superusers in. */
  token: string | null
  /** How long a value that costs a query (job counts, outbox lag) is reused between scrapes, in ms. */
  cacheMs: number
}

export interface RequestLogsConfig {
  /** Days request logs are kept; 0 turns request logs off. */
  retentionDays: number
  /** Requests per second logged in full; above it a share is kept (every 5xx always). */
  maxPerSecond: number
}

/** Goes into log lines, metric labels and stored rows: short, and safe in each of them. */
const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * The host name tells a person which machine a line came from; the random part keeps two
 * processes apart that share one (containers with a fixed host name, several nodes on a laptop).
 */
function defaultNodeId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 50) || 'node'
  return `${host}-${randomBytes(3).toString('hex')}`
}

export function nodeId(env: Env): string {
  const raw = env.PLINTH_NODE_ID?.trim()
  if (!raw) return defaultNodeId()
  if (!NODE_ID.test(raw))
    throw new ConfigError(
      'PLINTH_NODE_ID',
      `expected 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit, got "${raw}"`,
    )
  return raw
}

export function metricsConfig(env: Env): MetricsConfig {
  const token = env.PLINTH_METRICS_TOKEN?.trim() || null
  // Visible ASCII only: the token travels in a header. The length keeps it out of reach of guessing.
  if (token !== null && !/^[\x21-\x7e]{32,512}$/.test(token))
    throw new ConfigError(
      'PLINTH_METRICS_TOKEN',
      'expected 32 to 512 visible ASCII characters, such as the output of `openssl rand -hex 32`',
    )
  return { token, cacheMs: integer(env, 'PLINTH_METRICS_CACHE_MS', 5000, 0, 600_000) }
}

export function requestLogsConfig(env: Env): RequestLogsConfig {
  return {
    retentionDays: integer(env, 'PLINTH_LOGS_RETENTION_DAYS', 7, 0, 3650),
    maxPerSecond: integer(env, 'PLINTH_LOGS_MAX_PER_SECOND', 100, 1, 1_000_000),
  }
}

export interface TracesConfig {
  /** Where spans are sent (OTLP/HTTP, the full `/v1/traces` URL); null leaves tracing off and unloaded. */
  endpoint: string | null
  /** The `service.name` of every span. */
  serviceName: string
  /** Share of new traces kept, 0 to 1. */
  sampleRatio: number
  /** Whether a caller's sampling decision (the flag of its `traceparent`) is followed. */
  followsParent: boolean
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]

/**
 * The standard OTel variables (opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables),
 * read here like every other setting, so a typo fails at start and not at the first export.
 */
export function tracesConfig(env: Env): TracesConfig {
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || 'plinth'
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on'
  if (!SAMPLERS.includes(sampler))
    throw new ConfigError('OTEL_TRACES_SAMPLER', `expected one of ${SAMPLERS.join(', ')}, got "${sampler}"`)
  let sampleRatio = sampler.endsWith('always_off') ? 0 : 1
  if (sampler.endsWith('traceidratio')) {
    const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim() || '1'
    sampleRatio = Number(raw)
    if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1)
      throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `expected a number from 0 to 1, got "${raw}"`)
  }
  return {
    endpoint: tracesEndpoint(env),
    serviceName,
    sampleRatio,
    followsParent: sampler.startsWith('parentbased'),
  }
}

function tracesEndpoint(env: Env): string | null {
  // The signal's own variable is used as given; the general one gets the signal's path (OTLP spec).
  const own = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  const url = own || (general ? `${general.replace(/\/+$/, '')}/v1/traces` : null)
  if (url === null) return null
  const variable = own ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(variable, `not a URL: "${url}"`)
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new ConfigError(variable, `expected an http or https URL, got "${url}"`)
  return url
}
