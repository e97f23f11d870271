import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import { PlinthError } from '../errors/index.js'

export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'If-None-Match',
  'X-Request-Id',
  // Cookie mode (auth/cookie-mode.ts): the sign-in asks for cookies, writes prove they are not forged.
  'X-Plinth-Auth',
  'X-CSRF-Token',
]
export const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'X-Request-Id', 'Retry-After', 'Idempotent-Replayed']

/**
 * Lets the listed origins (or any, with `*`) call the API from a browser. Without a
 * list no other origin may: browsers keep the API to pages of its own origin.
 * Exact origins may send credentials (cookies); `*` may not, as the CORS standard requires.
 */
export async function registerCors(app: FastifyInstance, origins: string[] | '*'): Promise<void> {
  if (origins === '*') {
    await app.register(cors, { ...sharedOptions, origin: '*', credentials: false })
    return
  }
  const allowed = new Set(origins)
  refuseOtherOriginsPreflights(app, allowed)
  if (allowed.size === 0) return
  await app.register(cors, {
    ...sharedOptions,
    origin: (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) =>
      callback(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
  })
}

const sharedOptions = {
  methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
  allowedHeaders: CORS_ALLOWED_HEADERS,
  exposedHeaders: CORS_EXPOSED_HEADERS,
  maxAge: 600,
}

/**
 * A preflight from an origin not on the list gets a deliberate 403 without any
 * Access-Control-Allow-* header: the browser blocks the request, and whoever reads
 * the answer learns why, instead of a 404 or 405 that looks like a missing route.
 */
function refuseOtherOriginsPreflights(app: FastifyInstance, allowed: ReadonlySet<string>): void {
  app.addHook('onRequest', async function refuseOtherOriginsPreflight(request) {
    const { origin } = request.headers
    if (request.method !== 'OPTIONS' || origin === undefined) return
    if (request.headers['access-control-request-method'] === undefined || allowed.has(origin)) return
    throw new PlinthError(
      403,
      'origin_not_allowed',
      `The origin ${origin} may not call this API from a browser; PLINTH_CORS_ORIGINS lists the ones that may.`,
    )
  })
}
