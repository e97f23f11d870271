import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { SharedState } from '../cluster/index.js'
import type { PlinthConfig } from '../config/index.js'
import { registerCors } from './cors.js'
import { registerSecurityHeaders, securityHeaders } from './headers.js'
import { registerRateLimits } from './rate-limits.js'

/** The security headers every answer of this configuration carries. */
export function securityHeadersFor(config: PlinthConfig): Readonly<Record<string, string>> {
  return securityHeaders({
    isHttps: new URL(config.publicUrl).protocol === 'https:',
    isCrossOrigin: config.corsOrigins === '*' || config.corsOrigins.length > 0,
  })
}

export interface SecurityOptions {
  config: PlinthConfig
  /** The header set of {@link securityHeadersFor}, worked out once by the app. */
  headers: Readonly<Record<string, string>>
  isAuthCollection(name: string): boolean
  /** Where rate-limit counts live. */
  state: SharedState
}

/**
 * Security headers, CORS and rate limits for the whole app. Register it before any
 * route (rate limits attach to routes as they are added) and before authentication
 * (so a 401 still carries CORS headers a browser needs to read it).
 */
export const security = fp(
  async function security(app: FastifyInstance, options: SecurityOptions) {
    const { config } = options
    registerSecurityHeaders(app, options.headers)
    await registerCors(app, config.corsOrigins)
    if (config.rateLimits.enabled)
      await registerRateLimits(app, {
        limits: config.rateLimits,
        isAuthCollection: options.isAuthCollection,
        state: options.state,
      })
  },
  { name: 'plinth-security', fastify: '5.x' },
)
