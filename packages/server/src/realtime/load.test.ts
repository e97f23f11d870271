import { connect } from 'node:net'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { openStream, type SseStream, setSubscriptions } from '../test-support/realtime.js'
import { listen } from '../test-support/realtime-blog.js'

const CLIENTS = 1000
const realtime = {
  heartbeatMs: 25_000,
  maxSubscriptions: 10,
  maxConnectionsPerCaller: CLIENTS + 10,
  maxBufferBytes: 64 * 1024,
}

describe.each(testDialects)('realtime under load on %s', (kind) => {
  let t: TestApp
  let base: string
  const streams: SseStream[] = []

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, { realtime })
    base = await listen(t)
    await createCollection(t, {
      name: 'feed',
      fields: [{ name: 'text', type: 'text' }],
      listRule: '',
      viewRule: '',
    })
  })
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close()
    await t?.close()
  })

  const post = (text: string) =>
    t.request({ method: 'POST', url: '/api/collections/feed/records', payload: { text } })

  test(`${CLIENTS} concurrent SSE clients all receive an event`, { timeout: 120_000 }, async () => {
    for (let start = 0; start < CLIENTS; start += 100) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => openStream(base)))
      streams.push(...batch)
      const answers = await Promise.all(
        batch.map((stream) =>
          setSubscriptions(base, { clientId: stream.clientId, subscriptions: ['feed/*'] }),
        ),
      )
      expect(answers.every((answer) => answer.status === 204)).toBe(true)
    }
    expect(new Set(streams.map((stream) => stream.clientId)).size).toBe(CLIENTS)
    const created = await post('to everyone')
    expect(created.statusCode).toBe(201)
    const id = created.json().id
    await Promise.all(
      streams.map((stream) =>
        stream.until(() => stream.events().some((event) => event.record.id === id), 60_000),
      ),
    )
    for (const stream of streams) expect(stream.events()).toHaveLength(1)
  })

  test('drops a client that stops reading, and keeps the others going', { timeout: 120_000 }, async () => {
    const healthy = await openStream(base)
    streams.push(healthy)
    await setSubscriptions(base, { clientId: healthy.clientId, subscriptions: ['feed/*'] })

    // A raw socket, so the test controls when it reads: after its client id, never again.
    const stalled = connect(Number(new URL(base).port), '127.0.0.1')
    stalled.write('GET /api/realtime HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n')
    const clientId = await new Promise<string>((resolve) => {
      let head = ''
      stalled.on('data', function firstChunk(chunk) {
        head += chunk
        const match = /"clientId":"([^"]+)"/.exec(head)
        if (!match) return
        stalled.off('data', firstChunk)
        stalled.pause()
        resolve(match[1]!)
      })
    })
    expect((await setSubscriptions(base, { clientId, subscriptions: ['feed/*'] })).status).toBe(204)
    let closed = false
    stalled.on('close', () => {
      closed = true
    })
    stalled.on('error', () => {})

    // Far more than the kernel's socket buffers hold, so the server's own buffer must grow.
    const big = 'x'.repeat(400_000)
    const WRITES = 60
    for (let n = 0; n < WRITES; n++) expect((await post(`${n} ${big}`)).statusCode).toBe(201)
    const last = await post('last')
    const lastId = last.json().id
    await healthy.until(() => healthy.events().some((event) => event.record.id === lastId), 60_000)
    expect(healthy.events()).toHaveLength(WRITES + 1)

    // Read what the server had handed to the kernel before it cut the client off: not everything.
    let received = 0
    stalled.on('data', (chunk: Buffer) => {
      received += chunk.toString().split('event:feed/*').length - 1
    })
    stalled.resume()
    await until(() => closed, 30_000)
    expect(received).toBeLessThan(WRITES + 1)
    // Its client id is gone: it cannot be given subscriptions again.
    expect((await setSubscriptions(base, { clientId, subscriptions: ['feed/*'] })).status).toBe(404)
  })
})
