/**
 * Optional OpenTelemetry traces. `startTracing` loads the SDK only when an OTLP endpoint is
 * configured; the helpers below use the OTel API alone, so they cost next to nothing when
 * nothing is traced and other domains call them unconditionally.
 *
 * @example
 * const tracing = await startTracing(config.traces, config.nodeId)  // null when off
 * await jobs.enqueue('mail', payload, { traceparent: currentTraceparent() })
 * await runTraced('job mail', job.traceparent, { 'plinth.job.name': 'mail' }, () => handler(job))
 */
export { currentTraceparent, outgoingTraceparent, runTraced, type SpanRole } from './propagation.js'
export { startTracing, type TracedQuery, type Tracing } from './tracing.js'
