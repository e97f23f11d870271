import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'

/** Plinth's spans outside HTTP; the same scope name as the SDK's tracer. */
const SCOPE = 'plinth'

/**
 * The W3C `traceparent` of the span running now, to store or send with work that runs later
 * or elsewhere (a job, a webhook delivery, a broker message). Null when nothing is traced,
 * which is always the case without a configured endpoint: no propagator is registered then.
 */
export function currentTraceparent(): string | null {
  const carrier: { traceparent?: string } = {}
  propagation.inject(context.active(), carrier)
  return carrier.traceparent ?? null
}

/**
 * Runs `work` in a span that continues the trace of `traceparent` (stored when the work was
 * queued); without one, or with one that does not parse, the span starts a trace of its own.
 * Without tracing the API hands out a span that records nothing, so this costs a few objects.
 */
export function runTraced<T>(
  name: string,
  traceparent: string | null,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = traceparent ? propagation.extract(context.active(), { traceparent }) : context.active()
  return trace
    .getTracer(SCOPE)
    .startActiveSpan(name, { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      try {
        return await work()
      } catch (error) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        })
        throw error
      } finally {
        span.end()
      }
    })
}
