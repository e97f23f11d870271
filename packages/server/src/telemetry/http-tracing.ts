import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions'
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { routePattern } from '../metrics/index.js'

const spans = new WeakMap<FastifyRequest, Span>()

/** Reads only the two W3C headers: the propagator asks for nothing else. */
const headerGetter = {
  keys: () => ['traceparent', 'tracestate'],
  get(headers: FastifyRequest['headers'], key: string) {
    if (key !== 'traceparent' && key !== 'tracestate') return undefined
    return headers[key]
  },
}

/**
 * One server span per request. Its name is the route pattern, never the URL, so a tracing
 * backend groups requests as the metrics do. A `traceparent` the W3C propagator cannot parse
 * is dropped and the request starts a trace of its own: a bad header never fails a request.
 */
export function httpTracing(tracer: Tracer): FastifyPluginAsync {
  return fp(
    async function httpTracingPlugin(app) {
      // A callback hook: `done` runs the rest of the request inside the span's context,
      // which AsyncLocalStorage then carries into the handler and every statement it runs.
      app.addHook('onRequest', function startRequestSpan(request, _reply, done) {
        const parent = propagation.extract(context.active(), request.headers, headerGetter)
        const route = routePattern(request)
        const span = tracer.startSpan(
          route ? `${request.method} ${route}` : request.method,
          {
            kind: SpanKind.SERVER,
            attributes: {
              [ATTR_HTTP_REQUEST_METHOD]: request.method,
              [ATTR_URL_PATH]: request.url.split('?', 1)[0],
              ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
            },
          },
          parent,
        )
        spans.set(request, span)
        context.with(trace.setSpan(parent, span), done)
      })
      app.addHook('onResponse', function endRequestSpan(request, reply, done) {
        const span = spans.get(request)
        if (span) {
          span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, reply.statusCode)
          // OTel HTTP conventions: only a 5xx is the server's error; a 4xx is the caller's.
          if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
          span.end()
          spans.delete(request)
        }
        done()
      })
      app.addHook('onRequestAbort', function endAbortedSpan(request, done) {
        const span = spans.get(request)
        if (span) {
          span.setAttribute('plinth.request.aborted', true)
          span.end()
          spans.delete(request)
        }
        done()
      })
    },
    { name: 'plinth-http-tracing', fastify: '5.x' },
  )
}
