import rateLimit, { normalizeIP } from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { SharedState } from '../cluster/index.js'
import type { RateLimits } from '../config/index.js'
import { PlinthError } from '../errors/index.js'
import { routePattern } from '../metrics/index.js'
import { sharedRateLimitStore } from './rate-limit-store.js'

export type LimitClass = 'auth' | 'signUp' | 'api'

/**
 * Sign-in, one-time code and reset actions, matched on the registered route pattern
 * rather than the URL as sent, so no spelling of a path (percent-encoding, say)
 * moves a request into the looser general limit.
 */
const AUTH_ROUTE =
  /^\/api\/collections\/:[A-Za-z]+\/(auth-with-[a-z0-9-]+|request-[a-z0-9-]+|confirm-password-reset)(\/|$)/
const RECORDS_ROUTE = /^\/api\/collections\/:([A-Za-z]+)\/records$/

export interface RateLimitOptions {
  limits: RateLimits
  isAuthCollection(name: string): boolean
  /** Where the counts live, so that every node counts against the same windows. */
  state: SharedState
}

/** Which limit a request counts against. */
export function limitClass(request: FastifyRequest, isAuthCollection: (name: string) => boolean): LimitClass {
  const route = routePattern(request) ?? ''
  if (AUTH_ROUTE.test(route)) return 'auth'
  const records = RECORDS_ROUTE.exec(route)
  if (records && request.method === 'POST' && !request.caller?.isSuperuser) {
    const collection = (request.params as Record<string, string>)[records[1]!]
    if (collection !== undefined && isAuthCollection(collection)) return 'signUp'
  }
  return 'api'
}

/**
 * The counter a request adds to: its class, then the signed-in record, or the
 * client address when anonymous. Sign-in actions always count per address: a
 * token in hand must not buy a fresh budget of password guesses.
 */
function counterKey(request: FastifyRequest, isAuthCollection: (name: string) => boolean): string {
  const kind = limitClass(request, isAuthCollection)
  const auth = request.caller?.auth
  const who =
    kind !== 'auth' && auth
      ? `record:${auth.collection.id}:${auth.record.id}`
      : `ip:${normalizeIP(request.ip)}`
  return `${kind} ${who}`
}

function kindOf(key: string): LimitClass {
  return key.slice(0, key.indexOf(' ')) as LimitClass
}

/**
 * Per-client request limits on every route registered after this plugin, answered
 * with 429 and Retry-After. Superusers are exempt from the general limit only.
 */
export async function registerRateLimits(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  const { limits, isAuthCollection } = options
  await app.register(rateLimit, {
    global: true,
    hook: 'onRequest',
    store: sharedRateLimitStore(options.state),
    skipOnError: true,
    keyGenerator: (request) => counterKey(request, isAuthCollection),
    max: (_request, key) => limits[kindOf(key)].max,
    timeWindow: (_request, key) => limits[kindOf(key)].windowMs,
    allowList: (request, key) => kindOf(key) === 'api' && request.caller?.isSuperuser === true,
    errorResponseBuilder: (_request, context) =>
      new PlinthError(429, 'rate_limited', `Too many requests; try again in ${context.after}.`, undefined, {
        retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)),
      }),
  })
}
