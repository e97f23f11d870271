import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { loadConfig } from '../config/index.js'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection, createRecord } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { parseMetrics, samples, sampleValue, scrape } from '../test-support/prometheus.js'
import { openStream } from '../test-support/realtime.js'
import { listen } from '../test-support/realtime-blog.js'
import { startReceiver, webhookSettings } from '../test-support/webhook-receiver.js'

const TOKEN = 'metrics-token-0123456789abcdef-0123456789abcdef'
const NODE = 'node-under-test'
const RECORD_ROUTE = '/api/collections/:collection/records/:id'
const MISSING = '0190a6e4-0000-7000-8000-000000000000'

describe.each(testDialects)('/api/metrics on %s', (kind) => {
  const apps: TestApp[] = []
  const cleanups: Array<() => Promise<void>> = []

  beforeEach((context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup()
    for (const app of apps.splice(0)) await app.close()
  })

  async function app(overrides: Parameters<typeof createTestApp>[1] = {}): Promise<TestApp> {
    const t = await createTestApp(kind, { nodeId: NODE, metrics: { token: TOKEN, cacheMs: 0 }, ...overrides })
    apps.push(t)
    return t
  }

  async function userToken(t: TestApp): Promise<string> {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    return (await passwordSignIn(t, 'ada@example.com')).json().token as string
  }

  test('a 404 counts under its route pattern and status, never under its URL', async () => {
    const t = await app()
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }] })
    const series = { method: 'GET', route: RECORD_ROUTE, status: '404' }
    const before = await scrape(t)

    const missing = await t.request({ method: 'GET', url: `/api/collections/posts/records/${MISSING}` })
    expect(missing.statusCode).toBe(404)
    const unmatched = await t.request({ method: 'GET', url: '/api/no-such-route-7f3a' })
    expect(unmatched.statusCode).toBe(404)

    const after = await scrape(t)
    expect(sampleValue(after, 'plinth_http_requests_total', series)).toBe(
      sampleValue(before, 'plinth_http_requests_total', series) + 1,
    )
    const unmatchedSeries = { method: 'GET', route: 'unmatched', status: '404' }
    expect(sampleValue(after, 'plinth_http_requests_total', unmatchedSeries)).toBe(
      sampleValue(before, 'plinth_http_requests_total', unmatchedSeries) + 1,
    )
    const timed = { method: 'GET', route: RECORD_ROUTE }
    expect(sampleValue(after, 'plinth_http_request_duration_seconds_count', timed)).toBe(
      sampleValue(before, 'plinth_http_request_duration_seconds_count', timed) + 1,
    )
    const text = (await t.request({ method: 'GET', url: '/api/metrics' })).body
    expect(text).not.toContain(MISSING)
    expect(text).not.toContain('no-such-route-7f3a')
  })

  test('every series carries the node id, process metrics included', async () => {
    const t = await app()
    const text = (await t.request({ method: 'GET', url: '/api/metrics' })).body
    const families = parseMetrics(text)
    for (const name of [
      'plinth_http_requests_total',
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(samples(families, name).length, name).toBeGreaterThan(0)
    expect(text).toContain('# TYPE nodejs_gc_duration_seconds histogram')
    for (const family of families)
      for (const sample of family.metrics) expect(sample.labels?.node_id, family.name).toBe(NODE)
  })

  test('two apps in one process keep their numbers apart', async () => {
    const first = await app({ nodeId: 'first-node' })
    const second = await app({ nodeId: 'second-node' })
    const series = { method: 'GET', route: 'unmatched', status: '404' }
    const before = sampleValue(await scrape(second), 'plinth_http_requests_total', series)
    await first.request({ method: 'GET', url: '/api/nope' })
    await first.request({ method: 'GET', url: '/api/nope' })
    expect(sampleValue(await scrape(second), 'plinth_http_requests_total', series)).toBe(before)
    expect(sampleValue(await scrape(first), 'plinth_http_requests_total', series)).toBe(2)
  })

  test('a queued job raises the depth of the queue', async () => {
    const t = await app()
    const depth = async () => sampleValue(await scrape(t), 'plinth_jobs', { state: 'queued' })
    const before = await depth()
    expect(samples(await scrape(t), 'plinth_jobs').map((sample) => sample.labels?.state)).toEqual(
      expect.arrayContaining(['queued', 'running', 'succeeded', 'failed', 'dead']),
    )
    await t.app.plinth.jobs.enqueue('not-registered', null)
    await t.app.plinth.jobs.enqueue('not-registered', null)
    expect(await depth()).toBe(before + 2)
  })

  test('readings that cost a query are reused within the cache time', async () => {
    const t = await app({ metrics: { token: TOKEN, cacheMs: 600_000 } })
    const before = sampleValue(await scrape(t), 'plinth_jobs', { state: 'queued' })
    await t.app.plinth.jobs.enqueue('not-registered', null)
    const storm = await Promise.all(Array.from({ length: 10 }, () => scrape(t, TOKEN)))
    for (const families of storm)
      expect(sampleValue(families, 'plinth_jobs', { state: 'queued' })).toBe(before)
  })

  test('an open realtime connection shows up, and goes when it closes', async () => {
    const t = await app()
    const base = await listen(t)
    const connections = async () => sampleValue(await scrape(t), 'plinth_realtime_connections')
    expect(await connections()).toBe(0)
    const stream = await openStream(base)
    cleanups.push(async () => stream.close())
    expect(await connections()).toBe(1)
    stream.close()
    await stream.ended
    await until(async () => (await connections()) === 0)
  })

  test('SQL statements are timed by kind', async () => {
    const t = await app()
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }] })
    const inserts = async () =>
      sampleValue(await scrape(t), 'plinth_db_query_duration_seconds_count', { operation: 'insert' })
    const before = await inserts()
    await createRecord(t, 'posts', { title: 'counted' })
    expect(await inserts()).toBeGreaterThan(before)
    expect(
      sampleValue(await scrape(t), 'plinth_db_query_duration_seconds_count', { operation: 'select' }),
    ).toBeGreaterThan(0)
  })

  test('the connection pool is shown where there is one', async () => {
    const t = await app()
    const families = await scrape(t)
    if (kind === 'sqlite') {
      expect(samples(families, 'plinth_db_pool_connections')).toEqual([])
      return
    }
    const open =
      sampleValue(families, 'plinth_db_pool_connections', { state: 'idle' }) +
      sampleValue(families, 'plinth_db_pool_connections', { state: 'in_use' })
    expect(open).toBeGreaterThanOrEqual(1)
    expect(sampleValue(families, 'plinth_db_pool_waiting')).toBe(0)
  })

  test('the outbox lag counts events a durable consumer has not been handed', async () => {
    const t = await app({ events: { ...loadConfig({}).events, pollIntervalMs: 20 } })
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }] })
    await createRecord(t, 'posts', { title: 'delivered' })
    const lag = async () => samples(await scrape(t), 'plinth_outbox_lag_events', { consumer: 'webhooks' })
    await until(async () => (await lag())[0]?.value === '0')
    await t.app.plinth.events.stop()
    for (const title of ['a', 'b', 'c']) await createRecord(t, 'posts', { title })
    expect(Number((await lag())[0]?.value)).toBe(3)
  })

  test('failed webhook deliveries are counted by what follows them', async () => {
    const receiver = await startReceiver({ respond: () => 500 })
    cleanups.push(() => receiver.close())
    const t = await app({
      webhooks: webhookSettings({ maxAttempts: 2 }),
      events: { ...loadConfig({}).events, pollIntervalMs: 20 },
    })
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }] })
    const hook = await t.request({
      method: 'POST',
      url: '/api/webhooks',
      payload: { url: receiver.url, collections: ['posts'], actions: ['create'] },
    })
    expect(hook.statusCode, hook.body).toBe(201)
    await createRecord(t, 'posts', { title: 'refused' })
    const failures = async (outcome: string) =>
      sampleValue(await scrape(t), 'plinth_webhook_delivery_failures_total', { outcome })
    await until(async () => (await failures('dead')) === 1)
    expect(await failures('retry')).toBe(1)
    expect(receiver.received).toHaveLength(2)
  })

  test('superusers and the metrics token may read; anonymous callers get 401, other users 403', async () => {
    const t = await app()
    const user = await userToken(t)
    const read = (headers: Record<string, string>) =>
      t.request({ method: 'GET', url: '/api/metrics', auth: null, headers })

    expect((await read({ authorization: `Bearer ${t.token}` })).statusCode).toBe(200)
    expect((await read({ authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200)
    expect((await read({ authorization: `bearer ${TOKEN}` })).statusCode).toBe(200)
    for (const [headers, status] of [
      [{}, 401],
      [{ authorization: `Bearer ${user}` }, 403],
      [{ authorization: TOKEN }, 401],
      [{ authorization: `Bearer ${TOKEN}x` }, 401],
      [{ authorization: `Bearer ${TOKEN.slice(0, -1)}` }, 401],
      [{ authorization: `Bearer ${TOKEN.toUpperCase()}` }, 401],
      [{ authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, 401],
      [{ authorization: "Bearer ' or '1'='1" }, 401],
      [{ authorization: 'Bearer __proto__' }, 401],
    ] as const) {
      const answer = await read(headers)
      expect(answer.statusCode, JSON.stringify(headers)).toBe(status)
      expect(answer.headers['content-type']).toContain('application/problem+json')
      expect(answer.body).not.toContain('plinth_http_requests_total')
    }
  })

  test('the metrics token opens nothing but the metrics', async () => {
    const t = await app()
    for (const url of ['/api/collections', '/api/jobs', '/api/webhooks']) {
      const answer = await t.request({ method: 'GET', url, auth: TOKEN })
      expect(answer.statusCode, url).toBe(401)
    }
  })

  test('without a configured token only superusers may read', async () => {
    const t = await app({ metrics: { token: null, cacheMs: 0 } })
    expect((await t.request({ method: 'GET', url: '/api/metrics', auth: TOKEN })).statusCode).toBe(401)
    expect((await t.request({ method: 'GET', url: '/api/metrics', auth: 'Bearer' })).statusCode).toBe(401)
    expect((await t.request({ method: 'GET', url: '/api/metrics' })).statusCode).toBe(200)
  })

  test.for([
    ['an unknown parameter', 'format=json'],
    ['__proto__', '__proto__=1'],
    ['constructor', 'constructor=x'],
    ['prototype', 'prototype=x'],
    ['the token as a parameter', `token=${TOKEN}`],
    ['SQL', "name='%20or%201=1--"],
  ])('%s is a 400 problem', async ([, query]) => {
    const t = await app()
    const answer = await t.request({ method: 'GET', url: `/api/metrics?${query}` })
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    const anonymous = await t.request({ method: 'GET', url: `/api/metrics?${query}`, auth: null })
    expect(anonymous.statusCode).toBe(401)
  })

  test('other methods are refused', async () => {
    const t = await app()
    for (const method of ['POST', 'PUT', 'DELETE'] as const) {
      const answer = await t.request({ method, url: '/api/metrics', payload: {} })
      expect(answer.statusCode, method).toBe(405)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
  })
})
