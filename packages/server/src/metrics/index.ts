/**
 * Metrics of a Plinth instance in the Prometheus text format: one registry per instance,
 * served at `/api/metrics`. Other domains add their series through `Metrics`; the library
 * behind it stays inside this folder.
 *
 * @example
 * const metrics = new Metrics({ nodeId: config.nodeId, cacheMs: 5000 })
 * const misses = metrics.counter('plinth_cache_misses_total', 'Reads the cache could not answer.', ['cache'])
 * misses.inc({ cache: 'records' })
 */
export { httpMetrics } from './http-metrics.js'
export { type Counter, type GaugeSample, type Histogram, Metrics } from './metrics.js'
export { routePattern } from './route-pattern.js'
export { metricsRoutes } from './routes.js'
