import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'

export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'If-Match',
  'If-None-Match',
  'X-Request-Id',
]
export const CORS_EXPOSED_HEADERS = ['ETag', 'Location', 'X-Request-Id', 'Retry-After']

/**
 * Lets the listed origins (or any, with `*`) call the API from a browser. Without a
 * list nothing is registered: browsers keep the API to pages of its own origin.
 * Exact origins may send credentials (cookies); `*` may not, as the CORS standard requires.
 */
export async function registerCors(app: FastifyInstance, origins: string[] | '*'): Promise<void> {
  if (origins !== '*' && origins.length === 0) return
  const allowed = new Set(origins === '*' ? [] : origins)
  await app.register(cors, {
    origin:
      origins === '*'
        ? '*'
        : (origin: string | undefined, callback: (error: Error | null, allow: boolean) => void) =>
            callback(null, origin !== undefined && allowed.has(origin)),
    credentials: origins !== '*',
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAge: 600,
  })
}
