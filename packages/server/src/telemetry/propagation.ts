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

/** What a span stands for: work taken from a queue, a message sent, or a request made. */
export type SpanRole = 'consumer' | 'producer' | 'client'

const KINDS = { consumer: SpanKind.CONSUMER, producer: SpanKind.PRODUCER, client: SpanKind.CLIENT }

export interface TracedOptions<T> {
  /** `consumer` unless said. */
  role?: SpanRole
  /** Why a result that did not throw is still a failure (a webhook answered 500), or null. */
  failure?(result: T): string | null
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
  options: TracedOptions<T> = {},
): Promise<T> {
  const parent = traceparent ? propagation.extract(context.active(), { traceparent }) : context.active()
  const kind = KINDS[options.role ?? 'consumer']
  return trace.getTracer(SCOPE).startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      const result = await work()
      const failure = options.failure?.(result) ?? null
      if (failure !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: failure })
      return result
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

/**
 * The `traceparent` to send with a message or request made inside {@link runTraced}: the
 * span's own when this node traces, so the receiver's spans are its children, else the one
 * stored with the work, so the trace still reaches the receiver.
 */
export function outgoingTraceparent(stored: string | null): string | null {
  return currentTraceparent() ?? stored
}
