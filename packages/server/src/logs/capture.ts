import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { routePattern } from '../metrics/index.js'
import { isSecretParam } from '../security/index.js'
import type { RequestLogWriter } from './writer.js'

const MAX_URL_LENGTH = 2000
const MAX_USER_AGENT_LENGTH = 300

/**
 * Reads that monitoring repeats all day: logging each successful one would fill the log
 * with itself (reading the log would add to it). Their failures are logged like any other.
 */
const MONITORING_ROUTES = new Set([
  '/api/logs',
  '/api/logs/stats',
  '/api/logs/:id',
  '/api/metrics',
  '/api/health',
  '/api/health/ready',
])

/** The URL with credential parameters (file tokens, codes, passwords) left out entirely. */
export function withoutSecrets(url: string): string {
  const question = url.indexOf('?')
  if (question < 0) return url.slice(0, MAX_URL_LENGTH)
  const params = new URLSearchParams(url.slice(question + 1))
  for (const name of new Set(params.keys())) if (isSecretParam(name)) params.delete(name)
  const query = params.toString()
  return (query ? `${url.slice(0, question)}?${query}` : url.slice(0, question)).slice(0, MAX_URL_LENGTH)
}

function isMonitoringRead(request: FastifyRequest, status: number): boolean {
  const route = routePattern(request)
  return (
    route !== undefined &&
    MONITORING_ROUTES.has(route) &&
    (request.method === 'GET' || request.method === 'HEAD') &&
    status < 400
  )
}

/** Hands every answered request to the request log, after its answer has left. */
export const requestLogCapture = fp(
  async function requestLogCapture(app: FastifyInstance, options: { writer: RequestLogWriter }) {
    app.addHook('onResponse', function logRequest(request, reply, done) {
      const status = reply.statusCode
      if (!isMonitoringRead(request, status)) {
        const durationMs = reply.elapsedTime
        options.writer.record(status, () => {
          const auth = request.caller?.auth ?? null
          return {
            startedAt: Date.now() - durationMs,
            method: request.method,
            route: routePattern(request) ?? null,
            url: withoutSecrets(request.url),
            status,
            durationMs,
            authId: auth ? String(auth.record.id) : null,
            authCollection: auth?.collection.name ?? null,
            ip: request.ip,
            userAgent: (request.headers['user-agent'] ?? '').slice(0, MAX_USER_AGENT_LENGTH),
            requestId: request.id,
          }
        })
      }
      done()
    })
  },
  { name: 'plinth-request-logs', fastify: '5.x', dependencies: ['plinth-authentication'] },
)
