import type { Dialect } from '../db/index.js'
import type { EventDispatcher } from '../events/index.js'
import type { JobQueue } from '../jobs/index.js'
import type { Metrics } from '../metrics/index.js'
import type { RealtimeHub } from '../realtime/index.js'

/** From a tenth of a millisecond up: most statements of the API take less than one. */
const QUERY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
]

/**
 * The series every Plinth instance reports besides its HTTP answers: SQL statements and
 * the connection pool, realtime connections, the outbox's lag and the job queue. Readings
 * that cost a query are taken at scrape time and reused for the configured cache time.
 */
export function instrumentCore(
  metrics: Metrics,
  parts: { dialect: Dialect; jobs: JobQueue<any>; events: EventDispatcher; realtime: RealtimeHub },
): void {
  const { dialect, jobs, events, realtime } = parts
  const queryTime = metrics.histogram(
    'plinth_db_query_duration_seconds',
    'Time SQL statements took, in seconds, by kind of statement.',
    ['operation'],
    QUERY_BUCKETS,
  )
  const queryErrors = metrics.counter(
    'plinth_db_query_errors_total',
    'SQL statements the database refused or failed, by kind of statement.',
    ['operation'],
  )
  dialect.onQuery(({ operation, durationMs, isFailed }) => {
    queryTime.observe({ operation }, durationMs / 1000)
    if (isFailed) queryErrors.inc({ operation })
  })
  if (dialect.poolUse() !== null) {
    metrics.gauge(
      'plinth_db_pool_connections',
      'Open database connections, busy (in_use) or idle.',
      ['state'],
      () => {
        const use = dialect.poolUse()!
        return [
          { labels: { state: 'in_use' }, value: use.total - use.idle },
          { labels: { state: 'idle' }, value: use.idle },
        ]
      },
    )
    metrics.gauge('plinth_db_pool_waiting', 'Statements waiting for a free database connection.', [], () => [
      { value: dialect.poolUse()!.waiting },
    ])
  }
  metrics.gauge('plinth_realtime_connections', 'Open realtime connections (SSE and WebSocket).', [], () => [
    { value: realtime.size },
  ])
  metrics.gauge(
    'plinth_outbox_lag_events',
    'Events in the outbox not yet handed to each durable consumer (webhooks, brokers, event jobs).',
    ['consumer'],
    async () => (await events.lag()).map(({ consumer, events }) => ({ labels: { consumer }, value: events })),
    { isCostly: true },
  )
  metrics.gauge(
    'plinth_jobs',
    'Jobs in the queue by state, across every node.',
    ['state'],
    async () =>
      Object.entries(await jobs.countByState()).map(([state, count]) => ({
        labels: { state },
        value: count,
      })),
    { isCostly: true },
  )
}
