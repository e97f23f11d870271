import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, SUPERUSER_EMAIL, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { sampleValue, scrape } from '../test-support/prometheus.js'

const NODE = 'logs-node'
const MISSING = '0190a6e4-0000-7000-8000-000000000000'
const RECORD_ROUTE = '/api/collections/:collection/records/:id'

type Log = Record<string, any>

describe.each(testDialects)('/api/logs on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, {
      nodeId: NODE,
      jobs: { concurrency: 2, pollIntervalMs: 10, retentionDays: 7, leaseMarginMs: 30_000 },
    })
    await createCollection(t, { name: 'posts', fields: [{ name: 'title', type: 'text' }], listRule: '' })
  })
  afterEach(async () => t?.close())

  const get = (url: string, auth?: string | null) => t.request({ method: 'GET', url, auth })

  /**
   * The logs a filter finds, once at least `count` of them are written. The writer writes
   * each second; asking it to write what it holds spares each test that wait.
   */
  async function logsWhere(filter: string, count = 1): Promise<Log[]> {
    let items: Log[] = []
    await until(async () => {
      await t.app.plinth.requestLogs.writer?.flush()
      const answer = await get(`/api/logs?perPage=500&filter=${encodeURIComponent(filter)}`)
      expect(answer.statusCode, answer.body).toBe(200)
      items = answer.json().items
      return items.length >= count
    })
    return items
  }

  async function userToken(): Promise<string> {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    return (await passwordSignIn(t, 'ada@example.com')).json().token as string
  }

  test('an answered request is logged with its route pattern, caller and node', async () => {
    const missing = await get(`/api/collections/posts/records/${MISSING}`)
    expect(missing.statusCode).toBe(404)
    const [log] = await logsWhere(`route = "${RECORD_ROUTE}"`)
    const superuser = (
      await get(
        `/api/collections/_superusers/records?filter=${encodeURIComponent(`email="${SUPERUSER_EMAIL}"`)}`,
      )
    ).json().items[0]
    expect(log).toMatchObject({
      method: 'GET',
      route: RECORD_ROUTE,
      url: `/api/collections/posts/records/${MISSING}`,
      status: 404,
      authId: superuser.id,
      authCollection: '_superusers',
      ip: '127.0.0.1',
      userAgent: 'lightMyRequest',
      requestId: missing.headers['x-request-id'],
      nodeId: NODE,
      sampleRate: 1,
    })
    expect(log!.duration).toBeGreaterThanOrEqual(0)
    expect(Date.parse(log!.created)).toBeGreaterThan(Date.now() - 60_000)
    const viewed = await get(`/api/logs/${log!.id}`)
    expect(viewed.statusCode).toBe(200)
    expect(viewed.json()).toEqual(log)
  })

  test('anonymous requests and unmatched routes are logged too', async () => {
    await get('/api/no-such-route', null)
    const [log] = await logsWhere('url = "/api/no-such-route"')
    expect(log).toMatchObject({ route: null, status: 404, authId: null, authCollection: null })
  })

  test('requests are written in batches, not one statement each', async () => {
    const inserts = async () =>
      sampleValue(await scrape(t), 'plinth_db_query_duration_seconds_count', { operation: 'insert' })
    const before = await inserts()
    for (let i = 0; i < 50; i++) await get('/api/nope', null)
    await logsWhere('url = "/api/nope"', 50)
    expect(await inserts()).toBeLessThanOrEqual(before + 5)
  })

  test('credentials in the query string are left out of the logged URL', async () => {
    await get('/api/collections/posts/records?token=s3cret-token&page=1&Password=hunter2&code=zqx-code', null)
    const [log] = await logsWhere('route = "/api/collections/:collection/records"')
    expect(log!.url).toBe('/api/collections/posts/records?page=1')
    const text = (await get('/api/logs?perPage=500')).body
    for (const secret of ['s3cret-token', 'hunter2', 'zqx-code']) expect(text).not.toContain(secret)
  })

  test('lists with filter, sort and paging over the fixed fields', async () => {
    for (let i = 0; i < 3; i++) await get(`/api/collections/posts/records/${MISSING}`)
    await get('/api/collections/posts/records')
    await get('/api/nope', null)
    await logsWhere('method = "GET"', 5)

    const notFound = await logsWhere(`status = 404 && route = "${RECORD_ROUTE}"`, 3)
    expect(notFound).toHaveLength(3)
    const since = new Date(Date.now() - 60_000).toISOString().replace('T', ' ').slice(0, 19)
    expect(
      await logsWhere(`created >= "${since}" && method = "GET" && status >= 200 && status < 300`),
    ).toEqual([expect.objectContaining({ route: '/api/collections/:collection/records' })])
    const future = (await get(`/api/logs?filter=${encodeURIComponent('created > "2999-01-01"')}`)).json()
    expect(future.totalItems).toBe(0)
    const urls = (await get(`/api/logs?filter=${encodeURIComponent('url ~ "nope"')}`)).json().items
    expect(urls.map((log: Log) => log.url)).toEqual(['/api/nope'])

    const gets = `filter=${encodeURIComponent('method = "GET"')}`
    const paged = (await get(`/api/logs?${gets}&sort=created&perPage=2&page=2`)).json()
    expect(paged).toMatchObject({ page: 2, perPage: 2, totalItems: 5, totalPages: 3 })
    const all = (await get(`/api/logs?${gets}&sort=created`)).json().items as Log[]
    expect(paged.items.map((log: Log) => log.id)).toEqual(all.slice(2, 4).map((log) => log.id))
    const newestFirst = (await get(`/api/logs?${gets}`)).json().items as Log[]
    const times = newestFirst.map((log) => log.created)
    expect(times).toEqual([...times].sort().reverse())
    expect(new Set(newestFirst.map((log) => log.id))).toEqual(new Set(all.map((log) => log.id)))
    const skipped = (await get(`/api/logs?${gets}&skipTotal=1`)).json()
    expect(skipped).toMatchObject({ totalItems: -1, totalPages: -1 })
  })

  test('stats count requests per minute and per hour', async () => {
    for (let i = 0; i < 3; i++) await get(`/api/collections/posts/records/${MISSING}`)
    await logsWhere(`route = "${RECORD_ROUTE}"`, 3)
    const filter = encodeURIComponent(`route = "${RECORD_ROUTE}"`)
    const byMinute = (await get(`/api/logs/stats?interval=minute&filter=${filter}`)).json()
    expect(byMinute.interval).toBe('minute')
    expect(byMinute.items.reduce((sum: number, bucket: Log) => sum + bucket.requests, 0)).toBe(3)
    for (const bucket of byMinute.items) expect(Date.parse(bucket.time) % 60_000).toBe(0)
    const byHour = (await get(`/api/logs/stats?filter=${filter}`)).json()
    expect(byHour.interval).toBe('hour')
    expect(byHour.items.reduce((sum: number, bucket: Log) => sum + bucket.rows, 0)).toBe(3)
    for (const bucket of byHour.items) {
      expect(Date.parse(bucket.time) % 3_600_000).toBe(0)
      expect(bucket.serverErrors).toBe(0)
    }
    expect((await get('/api/logs/stats?interval=day')).statusCode).toBe(400)
  })

  test('a busy node keeps a share of requests, and every 5xx', async () => {
    await t.close()
    t = await createTestApp(kind, { nodeId: NODE, requestLogs: { retentionDays: 7, maxPerSecond: 1 } })
    t.app.plinth.lifecycle.isDraining = true
    const answers = []
    for (let i = 0; i < 40; i++) answers.push(await get('/api/nope', null))
    for (let i = 0; i < 5; i++) answers.push(await get('/api/health/ready', null))
    t.app.plinth.lifecycle.isDraining = false
    expect(answers.filter((answer) => answer.statusCode === 503)).toHaveLength(5)

    const unavailable = await logsWhere('status = 503', 5)
    expect(unavailable).toHaveLength(5)
    for (const log of unavailable) expect(log.sampleRate).toBe(1)
    const notFound = (
      await get(`/api/logs?perPage=500&filter=${encodeURIComponent('url = "/api/nope"')}`)
    ).json().items as Log[]
    expect(notFound.length).toBeGreaterThanOrEqual(1)
    expect(notFound.length).toBeLessThan(40)
    for (const log of notFound) {
      expect(log.sampleRate).toBeGreaterThan(0)
      expect(log.sampleRate).toBeLessThanOrEqual(1)
    }
  })

  test('reading the logs, metrics or health is not logged; a refused read is', async () => {
    for (let i = 0; i < 5; i++) {
      expect((await get('/api/logs')).statusCode).toBe(200)
      expect((await get('/api/logs/stats')).statusCode).toBe(200)
      expect((await get('/api/health', null)).statusCode).toBe(200)
      expect((await get('/api/metrics')).statusCode).toBe(200)
    }
    expect((await get('/api/logs', null)).statusCode).toBe(401)
    const [refused] = await logsWhere('route = "/api/logs"')
    expect(refused).toMatchObject({ status: 401, authId: null })
    await get('/api/nope', null)
    await logsWhere('url = "/api/nope"')
    const logged = (await get('/api/logs?perPage=500')).json().items as Log[]
    expect(logged.filter((log) => log.status < 400 && /^\/api\/(logs|health|metrics)/.test(log.url))).toEqual(
      [],
    )
  })

  test('the prune job deletes requests older than the retention', async () => {
    await get('/api/nope', null)
    const [recent] = await logsWhere('url = "/api/nope"')
    const old = Date.now() - 8 * 24 * 60 * 60 * 1000
    const oldId = '0190a6e4-0000-7000-8000-0000000000aa'
    await t.app.plinth.dialect.db
      .insertInto('_request_logs')
      .values({
        ...recent,
        id: oldId,
        created: new Date(old).toISOString(),
        minute: Math.floor(old / 60_000),
      })
      .execute()
    expect((await get(`/api/logs/${oldId}`)).statusCode).toBe(200)

    const job = await t.app.plinth.jobs.enqueue('plinth.logs.prune', null)
    await until(async () => (await t.app.plinth.jobs.get(job!))?.state === 'succeeded')
    expect((await get(`/api/logs/${oldId}`)).statusCode).toBe(404)
    expect((await get(`/api/logs/${recent!.id}`)).statusCode).toBe(200)
  })

  test('with a retention of 0 days nothing is logged', async () => {
    await t.close()
    t = await createTestApp(kind, { requestLogs: { retentionDays: 0, maxPerSecond: 100 } })
    await get('/api/nope', null)
    expect(t.app.plinth.requestLogs.writer).toBeNull()
    expect((await get('/api/logs')).json()).toMatchObject({ items: [], totalItems: 0 })
  })

  const badQueries = [
    ['an unknown field', 'filter=secret%20%3D%201'],
    ['a syntax error', 'filter=status%20%3D%3D%3D%20404'],
    ['another collection', 'filter=%40collection.posts.title%20%3D%20%22x%22'],
    ['a relation path', 'filter=route.name%20%3D%20%22x%22'],
    ['SQL in a filter', 'filter=status%20%3D%20404%3B%20drop%20table%20_request_logs'],
    ['a __proto__ field', 'filter=__proto__%20%3D%201'],
    ['a constructor field', 'filter=constructor%20%3D%201'],
    ['a prototype field', 'filter=prototype%20%3D%201'],
    ['a wrong type', 'filter=status%20~%20true%20%26%26%20created%20%3E%20%22yesterday%22'],
    ['an unknown sort field', 'sort=-secret'],
    ['SQL in a sort', 'sort=created%3Bdelete%20from%20_request_logs'],
    ['an unknown parameter', 'expand=route'],
    ['a __proto__ parameter', '__proto__=1'],
    ['page 0', 'page=0'],
    ['a perPage that is not a number', 'perPage=many'],
    ['a filter given twice', 'filter=status%3D1&filter=status%3D2'],
  ]

  test.for(badQueries)('a list with %s is a 400 and deletes nothing', async ([, query]) => {
    await get('/api/nope', null)
    const before = (await logsWhere('url = "/api/nope"')).length
    const answer = await get(`/api/logs?${query}`)
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    expect((await get(`/api/logs/stats?${query}`)).statusCode).toBe(400)
    expect((await get(`/api/logs?filter=${encodeURIComponent('url = "/api/nope"')}`)).json().totalItems).toBe(
      before,
    )
  })

  test('an injection string as a value is only a value', async () => {
    await get('/api/nope', null)
    await logsWhere('url = "/api/nope"')
    for (const value of ["' or '1'='1", '"; drop table _request_logs; --', '%', '_', '\\']) {
      const filter = encodeURIComponent(`url = ${JSON.stringify(value)} || route ~ ${JSON.stringify(value)}`)
      const answer = await get(`/api/logs?filter=${filter}`)
      expect(answer.statusCode, value).toBe(200)
      expect(answer.json().totalItems, value).toBe(0)
    }
    expect((await get(`/api/logs?filter=${encodeURIComponent('url = "/api/nope"')}`)).json().totalItems).toBe(
      1,
    )
  })

  test.for(['not-a-uuid', '__proto__', `${MISSING}x`, MISSING.toUpperCase(), "1' or '1'='1"])(
    'the id %j is a 400',
    async (id) => {
      const answer = await get(`/api/logs/${encodeURIComponent(id)}`)
      expect(answer.statusCode).toBe(400)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    },
  )

  test('an unknown id is a 404', async () => {
    const answer = await get(`/api/logs/${MISSING}`)
    expect(answer.statusCode).toBe(404)
    expect(answer.json().type).toBe('urn:plinth:error:not_found')
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    const user = await userToken()
    for (const url of [
      '/api/logs',
      '/api/logs?nope=1',
      '/api/logs/stats',
      `/api/logs/${MISSING}`,
      '/api/logs/bad-id',
    ]) {
      expect((await get(url, null)).statusCode, url).toBe(401)
      expect((await get(url, user)).statusCode, url).toBe(403)
      expect((await get(url, 'metrics-token-0123456789abcdef-0123456789ab')).statusCode, url).toBe(401)
    }
  })
})
