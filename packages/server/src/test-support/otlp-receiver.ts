import { loadConfig, type TracesConfig } from '../config/index.js'
import { startReceiver } from './webhook-receiver.js'

/** A span as the OTLP/HTTP JSON export carries it, with its attributes flattened. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  name: string
  kind: number
  attributes: Record<string, unknown>
  resource: Record<string, unknown>
  status: { code?: number }
}

interface KeyValue {
  key: string
  value: Record<string, unknown>
}

function flatten(pairs: KeyValue[] = []): Record<string, unknown> {
  return Object.fromEntries(
    pairs.map(({ key, value }) => {
      const [kind, raw] = Object.entries(value)[0] ?? []
      // JSON encodes 64-bit integers as strings (proto3 JSON mapping).
      return [key, kind === 'intValue' ? Number(raw) : raw]
    }),
  )
}

/**
 * An OTLP/HTTP collector for tests: a real HTTP server that keeps every span exported to it
 * as JSON (the encoding of @opentelemetry/exporter-trace-otlp-http).
 */
export async function startOtlpReceiver() {
  const receiver = await startReceiver({ respond: () => ({ status: 200, body: '{}' }) })
  return {
    url: receiver.url,
    /** Requests that reached it, exports or not. */
    received: receiver.received,
    /** Traces settings that export to this receiver, everything kept. */
    traces(overrides: Partial<TracesConfig> = {}): TracesConfig {
      return { ...loadConfig({}).traces, endpoint: receiver.url, ...overrides }
    },
    spans(): ReceivedSpan[] {
      return receiver.received.flatMap((request) => {
        const body = JSON.parse(request.body) as {
          resourceSpans: {
            resource: { attributes: KeyValue[] }
            scopeSpans: {
              spans: (Omit<ReceivedSpan, 'attributes' | 'resource'> & { attributes: KeyValue[] })[]
            }[]
          }[]
        }
        return body.resourceSpans.flatMap(({ resource, scopeSpans }) =>
          scopeSpans.flatMap(({ spans }) =>
            spans.map((span) => ({
              ...span,
              parentSpanId: span.parentSpanId ?? '',
              attributes: flatten(span.attributes),
              resource: flatten(resource.attributes),
            })),
          ),
        )
      })
    },
    close: receiver.close,
  }
}

export type OtlpReceiver = Awaited<ReturnType<typeof startOtlpReceiver>>
