import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { defaultRateLimits, loadConfig, type RateLimits } from '../config/index.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createTestNodes, testRedisPrefix } from '../test-support/cluster.js'
import { postgresSkipReason, shouldSkip } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { type ServiceProxy, serviceProxy, serviceSkipReason } from '../test-support/services.js'

const limits: RateLimits = { ...defaultRateLimits, api: { max: 6, windowMs: 60_000 } }
const anonymousFrom = (node: TestApp, remoteAddress: string) =>
  node.request({ method: 'GET', url: '/api/collections/notes/records', auth: null, remoteAddress })

/** Three nodes on one fresh PostgreSQL database, with Redis (through a proxy a test can cut) or without. */
function withNodes(withRedis: boolean) {
  const cluster: { nodes: TestApp[]; proxy?: ServiceProxy } = { nodes: [] }
  let redisSkipReason = ''

  beforeAll(async () => {
    if (withRedis) redisSkipReason = await serviceSkipReason('redis')
  })

  beforeEach(async (context) => {
    if (shouldSkip('postgres')) context.skip(postgresSkipReason())
    if (redisSkipReason) context.skip(redisSkipReason)
    const proxy = withRedis ? await serviceProxy('redis') : undefined
    cluster.proxy = proxy
    const shared = loadConfig({
      ...(proxy ? { PLINTH_REDIS_URL: proxy.url, PLINTH_REDIS_PREFIX: testRedisPrefix() } : {}),
    }).cluster
    cluster.nodes = await createTestNodes('postgres', 3, { rateLimits: limits, cluster: shared })
    const notes = await cluster.nodes[0]!.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'notes', listRule: '', fields: [{ name: 'text', type: 'text' }] },
    })
    expect(notes.statusCode, notes.body).toBe(201)
  })

  afterEach(async () => {
    for (const node of cluster.nodes.splice(0)) await node.close()
    await cluster.proxy?.close()
  })
  return cluster
}

describe.each([
  { setup: 'PostgreSQL', withRedis: false },
  { setup: 'PostgreSQL and Redis', withRedis: true },
])('nodes sharing $setup', ({ withRedis }) => {
  const cluster = withNodes(withRedis)

  test('readiness names where the shared state lives', async () => {
    for (const node of cluster.nodes) {
      await until(
        async () => (await node.request({ method: 'GET', url: '/api/health/ready' })).json().status === 'ok',
      )
      const ready = await node.request({ method: 'GET', url: '/api/health/ready', auth: null })
      expect(ready.json()).toEqual({
        status: 'ok',
        database: 'postgres',
        sharedState: withRedis ? 'redis' : 'database',
      })
    }
  })

  test('a client has one rate limit across the nodes, not one per node', async () => {
    for (let i = 0; i < limits.api.max; i++)
      expect((await anonymousFrom(cluster.nodes[i % cluster.nodes.length]!, '10.1.1.1')).statusCode).toBe(200)
    for (const node of cluster.nodes) {
      const refused = await anonymousFrom(node, '10.1.1.1')
      expect(refused.statusCode).toBe(429)
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    }
    expect((await anonymousFrom(cluster.nodes[2]!, '10.1.1.2')).statusCode).toBe(200)
  })

  test('a collection made on one node is served by the others', async () => {
    const made = await cluster.nodes[0]!.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'tasks', listRule: '', fields: [{ name: 'title', type: 'text' }] },
    })
    expect(made.statusCode, made.body).toBe(201)
    for (const node of cluster.nodes.slice(1)) {
      await until(
        async () =>
          (await node.request({ method: 'GET', url: '/api/collections/tasks/records' })).statusCode === 200,
        1000,
      )
    }
  })

  test('a record written on one node is read on the others at once', async () => {
    const created = await cluster.nodes[1]!.request({
      method: 'POST',
      url: '/api/collections/notes/records',
      payload: { text: 'hello' },
    })
    expect(created.statusCode, created.body).toBe(201)
    for (const node of cluster.nodes) {
      const read = await node.request({
        method: 'GET',
        url: `/api/collections/notes/records/${created.json().id}`,
      })
      expect(read.json().text).toBe('hello')
    }
  })
})

describe('nodes sharing PostgreSQL and Redis, when Redis goes away', () => {
  const cluster = withNodes(true)

  test('without Redis the nodes serve on, say so, and come back by themselves when it returns', async () => {
    const [first, second] = cluster.nodes as [TestApp, TestApp]
    await until(
      async () => (await first.request({ method: 'GET', url: '/api/health/ready' })).json().status === 'ok',
    )
    await cluster.proxy!.cut()
    await until(
      async () =>
        (await first.request({ method: 'GET', url: '/api/health/ready' })).json().status === 'degraded',
    )
    const ready = await first.request({ method: 'GET', url: '/api/health/ready', auth: null })
    expect(ready.statusCode).toBe(200)
    expect(ready.json().status).toBe('degraded')
    // The limit still holds across nodes: the database counts while Redis is away.
    for (let i = 0; i < limits.api.max; i++)
      expect((await anonymousFrom(i % 2 ? second : first, '10.2.2.2')).statusCode).toBe(200)
    expect((await anonymousFrom(second, '10.2.2.2')).statusCode).toBe(429)
    const made = await first.request({
      method: 'POST',
      url: '/api/collections',
      payload: { name: 'offline', listRule: '', fields: [{ name: 'title', type: 'text' }] },
    })
    expect(made.statusCode, made.body).toBe(201)
    await until(
      async () =>
        (await second.request({ method: 'GET', url: '/api/collections/offline/records' })).statusCode === 200,
      1000,
    )
    await cluster.proxy!.restore()
    for (const node of cluster.nodes)
      await until(
        async () => (await node.request({ method: 'GET', url: '/api/health/ready' })).json().status === 'ok',
      )
    expect((await anonymousFrom(first, '10.3.3.3')).statusCode).toBe(200)
  })
})

test('a single node on SQLite keeps its shared state in the process', async () => {
  const node = await createTestApp('sqlite')
  try {
    const ready = await node.request({ method: 'GET', url: '/api/health/ready', auth: null })
    expect(ready.json()).toEqual({ status: 'ok', database: 'sqlite', sharedState: 'process' })
  } finally {
    await node.close()
  }
})

test('a Redis URL that is not one stops the start with the key named', () => {
  expect(() => loadConfig({ PLINTH_REDIS_URL: 'http://127.0.0.1:6379' })).toThrow(/PLINTH_REDIS_URL/)
  expect(() => loadConfig({ PLINTH_REDIS_PREFIX: 'has spaces' })).toThrow(/PLINTH_REDIS_PREFIX/)
  expect(() => loadConfig({ PLINTH_MEMCACHED_URL: 'nohost' })).toThrow(/PLINTH_MEMCACHED_URL/)
})
