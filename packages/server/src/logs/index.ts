/**
 * Request logs in the database: every answered request (sampled on a busy node, every
 * 5xx kept), written in batches off the request path, kept for a number of days, and
 * listed by superusers with the filter language at `/api/logs`.
 *
 * @example
 * const writer = new RequestLogWriter(dialect, { nodeId, maxPerSecond: 100 })
 * await app.register(requestLogCapture, { writer })
 * await app.register(logsRoutes, { store: new RequestLogStore(dialect) })
 */
export { requestLogCapture } from './capture.js'
export { REQUEST_LOGS_TABLE, requestLogsMigration } from './migration.js'
export { logsRoutes } from './routes.js'
export { REQUEST_LOG_FIELDS, RequestLogStore } from './store.js'
export { RequestLogWriter } from './writer.js'
