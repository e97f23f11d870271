import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import {
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions'
import { plinthVersion, type TracesConfig } from '../config/index.js'
import { httpTracing } from './http-tracing.js'
import type { TracedQuery, Tracing } from './tracing.js'

/** Not in the stable conventions yet; the name the OTel spec gives a process's instance id. */
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id'
/** The name under which Plinth's spans are recorded. */
const SCOPE = 'plinth'

function samplerFor(config: TracesConfig): Sampler {
  const root =
    config.sampleRatio >= 1
      ? new AlwaysOnSampler()
      : config.sampleRatio <= 0
        ? new AlwaysOffSampler()
        : new TraceIdRatioBasedSampler(config.sampleRatio)
  return config.followsParent ? new ParentBasedSampler({ root }) : root
}

/**
 * The SDK, loaded only by `startTracing`. Registering makes the provider, the
 * AsyncLocalStorage context and the W3C propagator global: the OTel API is process-wide by
 * design, so only one instance of a process traces at a time.
 */
export function createTracing(config: TracesConfig & { endpoint: string }, nodeId: string): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      [ATTR_SERVICE_VERSION]: plinthVersion(),
      [ATTR_SERVICE_INSTANCE_ID]: nodeId,
      'plinth.node_id': nodeId,
    }),
    sampler: samplerFor(config),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.endpoint }))],
  })
  provider.register()
  const tracer = provider.getTracer(SCOPE, plinthVersion())
  return {
    http: httpTracing(tracer),
    traceQuery(query: TracedQuery) {
      const parent = context.active()
      // A statement outside a request or job (the pollers) would start a trace of its own
      // every few hundred milliseconds: noise that hides the traces worth reading.
      if (!trace.getSpan(parent)?.isRecording()) return
      const end = Date.now()
      const span = tracer.startSpan(
        query.operation,
        {
          kind: SpanKind.CLIENT,
          startTime: end - query.durationMs,
          attributes: {
            [ATTR_DB_SYSTEM_NAME]: query.system,
            [ATTR_DB_OPERATION_NAME]: query.operation,
            [ATTR_DB_QUERY_TEXT]: query.statement,
          },
        },
        parent,
      )
      if (query.isFailed) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end(end)
    },
    flush: () => provider.forceFlush(),
    async close() {
      await provider.shutdown()
      trace.disable()
      context.disable()
      propagation.disable()
    },
  }
}
