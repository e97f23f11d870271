import { operation } from './operations.js'
import { metricsReaders } from './security-schemes.js'

export const METRICS_TAG = 'Metrics'

/** Operation ids of these endpoints; collections must not take them. */
export const metricsOperationIds = ['readMetrics']

/** The Prometheus endpoint, for superusers and scrapers holding the metrics token. */
export function metricsPaths() {
  return {
    '/api/metrics': {
      get: operation('get', 'readMetrics', [METRICS_TAG], {
        summary: 'Read the metrics',
        description:
          'This node’s metrics in the Prometheus text format: HTTP answers by route pattern, method and status, their latency, SQL statement time, the connection pool (PostgreSQL), realtime connections, the outbox’s lag, jobs by state, failed webhook deliveries and the process’s own figures. Every series carries a `node_id` label. Superusers, or `Authorization: Bearer <PLINTH_METRICS_TOKEN>`; other signed-in callers get 403. Query parameters are refused.',
        security: metricsReaders,
        responses: {
          200: {
            description: 'The metrics.',
            content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: { type: 'string' } } },
          },
        },
        problems: [400, 403],
      }),
    },
  }
}
