import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { type OtlpReceiver, startOtlpReceiver } from '../test-support/otlp-receiver.js'

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT_ID = '00f067aa0ba902b7'
const TRACEPARENT = `00-${TRACE_ID}-${PARENT_ID}-01`
const LIST_ROUTE = '/api/collections/:collection/records'
/** OTLP's numbers for span kinds. */
const SERVER = 2
const CLIENT = 3

const notes = {
  name: 'notes',
  fields: [{ name: 'title', type: 'text' }],
  listRule: '',
  viewRule: '',
  createRule: '',
}

describe.each(testDialects)('traces on %s', (kind) => {
  let receiver: OtlpReceiver
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    receiver = await startOtlpReceiver()
    t = await createTestApp(kind, {
      nodeId: 'trace-node-1',
      traces: receiver.traces({ serviceName: 'plinth-test' }),
    })
    await createCollection(t, notes)
  })
  afterEach(async () => {
    await t?.close()
    await receiver?.close()
  })

  async function exported() {
    await t.app.plinth.tracing!.flush()
    return receiver.spans()
  }

  test('a request is a server span named by its route, with method, route and status', async () => {
    const response = await t.request({
      method: 'GET',
      url: '/api/collections/notes/records?perPage=5',
      auth: null,
    })
    expect(response.statusCode).toBe(200)
    const server = (await exported()).find((span) => span.name === `GET ${LIST_ROUTE}`)
    expect(server).toMatchObject({
      kind: SERVER,
      attributes: {
        'http.request.method': 'GET',
        'http.route': LIST_ROUTE,
        'http.response.status_code': 200,
        'url.path': '/api/collections/notes/records',
      },
      resource: { 'service.name': 'plinth-test', 'service.instance.id': 'trace-node-1' },
    })
  })

  test('a caller’s traceparent is continued, and statements are children of the request', async () => {
    const response = await t.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      payload: { title: 'value-that-must-not-be-traced' },
      headers: { traceparent: TRACEPARENT },
      auth: null,
    })
    expect(response.statusCode).toBe(201)
    const spans = await exported()
    const server = spans.find((span) => span.name === `POST ${LIST_ROUTE}`)!
    expect(server).toMatchObject({ traceId: TRACE_ID, parentSpanId: PARENT_ID })
    expect(server.attributes['http.response.status_code']).toBe(201)
    const statements = spans.filter((span) => span.parentSpanId === server.spanId && span.kind === CLIENT)
    const insert = statements.find((span) => span.attributes['db.operation.name'] === 'insert')
    expect(insert).toMatchObject({
      traceId: TRACE_ID,
      attributes: { 'db.system.name': kind === 'postgres' ? 'postgresql' : 'sqlite' },
    })
    expect(String(insert!.attributes['db.query.text'])).toMatch(/^insert into/i)
    for (const span of spans) expect(JSON.stringify(span)).not.toContain('value-that-must-not-be-traced')
  })

  test('statements outside a request or job start no trace', async () => {
    await t.app.plinth.dialect.db.selectNoFrom((eb) => eb.lit(1).as('one')).execute()
    const statements = (await exported()).filter((span) => span.kind === CLIENT)
    expect(statements.length).toBeGreaterThan(0)
    expect(statements.filter((span) => span.parentSpanId === '')).toEqual([])
  })
})

describe('traceparent values that do not parse', () => {
  let receiver: OtlpReceiver
  let t: TestApp

  beforeEach(async () => {
    receiver = await startOtlpReceiver()
    t = await createTestApp('sqlite', { traces: receiver.traces() })
    await createCollection(t, notes)
  })
  afterEach(async () => {
    await t?.close()
    await receiver?.close()
  })

  const bad = [
    { name: 'garbage', headers: { traceparent: 'not a trace' } },
    { name: 'all-zero trace id', headers: { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` } },
    {
      name: 'an injection',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01'; drop table notes; --` },
    },
    { name: 'markup', headers: { traceparent: '<script>alert(1)</script>' } },
    { name: '__proto__ as value', headers: { traceparent: '__proto__', tracestate: '__proto__=1' } },
    { name: 'a huge value', headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`.repeat(500) } },
    { name: 'a list', headers: { traceparent: [TRACEPARENT, TRACEPARENT] } },
  ]

  test.each(bad)(
    '$name is ignored: the request answers as usual in a trace of its own',
    async ({ headers }) => {
      const response = await t.request({
        method: 'GET',
        url: '/api/collections/notes/records',
        headers: headers as Record<string, string>,
        auth: null,
      })
      expect(response.statusCode).toBe(200)
      await t.app.plinth.tracing!.flush()
      const server = receiver.spans().find((span) => span.name === `GET ${LIST_ROUTE}`)!
      expect(server.traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(server.traceId).not.toBe(TRACE_ID)
      expect(server.parentSpanId).toBe('')
    },
  )
})

describe('without an OTLP endpoint', () => {
  test('nothing is registered, and requests carry on as before', async () => {
    const t = await createTestApp('sqlite')
    try {
      expect(t.config.traces.endpoint).toBeNull()
      expect(t.app.plinth.tracing).toBeNull()
      const response = await t.request({
        method: 'GET',
        url: '/api/health',
        headers: { traceparent: TRACEPARENT },
      })
      expect(response.statusCode).toBe(200)
      // The OTel API keeps what the SDK registers under this global; nothing was put there.
      const registry = (globalThis as Record<symbol, Record<string, unknown> | undefined>)[
        Symbol.for('opentelemetry.js.api.1')
      ]
      expect(registry?.trace).toBeUndefined()
      expect(registry?.context).toBeUndefined()
    } finally {
      await t.close()
    }
  })
})
