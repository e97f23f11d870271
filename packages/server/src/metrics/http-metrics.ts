import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Metrics } from './metrics.js'
import { routePattern } from './route-pattern.js'

/** Where a request that matched no route is counted: its raw URL would be a new series per URL. */
const UNMATCHED_ROUTE = 'unmatched'

/** From a millisecond up: most answers of the API take a few milliseconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Counts every answer by route pattern, method and status, and times it by route and
 * method. The pattern (`/api/collections/:collection/records/:id`), never the URL, keeps
 * the number of series bounded by the routes Plinth has.
 */
export const httpMetrics = fp(
  async function httpMetrics(app: FastifyInstance, options: { metrics: Metrics }) {
    const requests = options.metrics.counter('plinth_http_requests_total', 'HTTP requests answered.', [
      'method',
      'route',
      'status',
    ])
    const latency = options.metrics.histogram(
      'plinth_http_request_duration_seconds',
      'Time from the request to the end of its answer, in seconds.',
      ['method', 'route'],
      LATENCY_BUCKETS,
    )
    app.addHook('onResponse', function countAnswer(request, reply, done) {
      const method = request.method
      const route = routePattern(request) ?? UNMATCHED_ROUTE
      requests.inc({ method, route, status: String(reply.statusCode) })
      latency.observe({ method, route }, reply.elapsedTime / 1000)
      done()
    })
  },
  { name: 'plinth-http-metrics', fastify: '5.x' },
)
