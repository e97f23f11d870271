import { hash, timingSafeEqual } from 'node:crypto'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { requireSuperuser } from '../identity/index.js'
import type { Metrics } from './metrics.js'

const BEARER = /^Bearer +(\S+)\s*$/i

/**
 * Whether an Authorization header carries the metrics token. Both sides are hashed first,
 * so the comparison takes the same time whatever the length or the first wrong character.
 */
function metricsTokenCheck(token: string | null): (authorization: string) => boolean {
  if (token === null) return () => false
  const expected = hash('sha256', token, 'buffer')
  return function isMetricsToken(authorization) {
    const given = BEARER.exec(authorization)?.[1]
    return given !== undefined && timingSafeEqual(hash('sha256', given, 'buffer'), expected)
  }
}

/**
 * `GET /api/metrics`: the instance's metrics in the Prometheus text format, for
 * superusers or a scraper sending `Authorization: Bearer <PLINTH_METRICS_TOKEN>`.
 *
 * @example
 * await app.register(metricsRoutes, { metrics: core.metrics, token: config.metrics.token })
 */
export async function metricsRoutes(
  app: FastifyInstance,
  options: { metrics: Metrics; token: string | null },
): Promise<void> {
  const { metrics } = options
  const isMetricsToken = metricsTokenCheck(options.token)
  // Before validation, so that only those who may read metrics learn which inputs are valid.
  app.addHook('preValidation', async function onlySuperusersOrTheToken(request) {
    const authorization = request.headers.authorization
    if (authorization !== undefined && isMetricsToken(authorization)) return
    requireSuperuser(request.caller, 'read metrics')
  })

  app.get(
    '/api/metrics',
    {
      config: { acceptsCredential: isMetricsToken },
      schema: { querystring: Type.Object({}, { additionalProperties: false }) },
    },
    async function scrape(_request, reply) {
      const text = await metrics.exposition()
      return reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text)
    },
  )
}
