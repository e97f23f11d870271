import type { FastifyPluginAsync } from 'fastify'
import type { TracesConfig } from '../config/index.js'

/** One finished SQL statement, as the database layer reports it: its text has placeholders, never values. */
export interface TracedQuery {
  /** `sqlite` or `postgresql`, as OTel names the systems. */
  system: string
  operation: string
  statement: string
  durationMs: number
  isFailed: boolean
}

/**
 * Tracing of one running instance, present only when an OTLP endpoint is configured.
 * Spans of jobs, webhooks and broker messages go through the OTel API (see propagation.ts),
 * which stays a no-op while no instance traces.
 */
export interface Tracing {
  /** A Fastify plugin: one server span per request, child of the caller's `traceparent`. */
  readonly http: FastifyPluginAsync
  /** Adds a span for a statement that ran inside a traced piece of work; others are left out. */
  traceQuery(query: TracedQuery): void
  /** Sends what is buffered, for a shutdown or a test that reads the receiver. */
  flush(): Promise<void>
  /** Sends what is buffered and lets a later instance of the process trace again. */
  close(): Promise<void>
}

/**
 * Starts tracing when `config.endpoint` is set; else returns null having loaded nothing, so
 * an instance without tracing starts as fast and as small as before.
 *
 * @example
 * const tracing = await startTracing(config.traces, config.nodeId)
 * if (tracing) await app.register(tracing.http)
 */
export async function startTracing(config: TracesConfig, nodeId: string): Promise<Tracing | null> {
  if (config.endpoint === null) return null
  const { createTracing } = await import('./sdk.js')
  return createTracing({ ...config, endpoint: config.endpoint }, nodeId)
}
