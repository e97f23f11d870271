import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'

const MISSING = '0190a6e4-0000-7000-8000-000000000000'

const badLists = [
  { name: 'an unknown parameter', query: 'nope=1' },
  { name: 'an unknown state', query: 'state=lost' },
  { name: 'a __proto__ state', query: 'state=__proto__' },
  { name: 'a __proto__ parameter', query: '__proto__=1' },
  { name: 'a constructor parameter', query: 'constructor=x' },
  { name: 'a state given twice', query: 'state=queued&state=dead' },
  { name: 'an unknown sort field', query: 'sort=payload' },
  { name: 'a sort with SQL', query: 'sort=created;drop table _jobs' },
  { name: 'page 0', query: 'page=0' },
  { name: 'a page that is not a number', query: 'page=two' },
  { name: 'perPage over 500', query: 'perPage=501' },
  { name: 'an empty name', query: 'name=' },
  { name: 'a name too long', query: `name=${'x'.repeat(201)}` },
]

const badIds = ['not-a-uuid', '__proto__', `${MISSING}x`, MISSING.toUpperCase(), "1' or '1'='1"]

describe.each(testDialects)('/api/jobs on %s', (kind) => {
  let t: TestApp

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, {
      jobs: { concurrency: 4, pollIntervalMs: 10, retentionDays: 7, leaseMarginMs: 30_000 },
    })
  })
  afterEach(async () => t?.close())

  const jobs = () => t.app.plinth.jobs
  const get = (url: string) => t.request({ method: 'GET', url })

  async function countJobs(): Promise<number> {
    return (await jobs().list({ page: 1, perPage: 500 })).totalItems
  }

  test('lists jobs a page at a time, filtered and sorted', async () => {
    await jobs().enqueue('digest', { n: 1 }, { priority: 1 })
    await jobs().enqueue('digest', { n: 2 }, { priority: 3, queue: 'mail' })
    await jobs().enqueue('report', { n: 3 }, { priority: 2 })

    const all = await get('/api/jobs?sort=-priority&perPage=2')
    expect(all.statusCode, all.body).toBe(200)
    expect(all.json()).toMatchObject({ page: 1, perPage: 2, totalItems: 3, totalPages: 2 })
    expect(all.json().items.map((job: any) => job.payload.n)).toEqual([2, 3])
    const second = (await get('/api/jobs?sort=-priority&perPage=2&page=2')).json()
    expect(second.items.map((job: any) => job.payload.n)).toEqual([1])

    const byName = (await get('/api/jobs?name=digest&sort=priority')).json()
    expect(byName.items.map((job: any) => job.payload.n)).toEqual([1, 2])
    expect((await get('/api/jobs?queue=mail')).json().items.map((job: any) => job.payload.n)).toEqual([2])
    expect((await get('/api/jobs?state=queued&name=__proto__')).json().totalItems).toBe(0)
    expect(byName.items[0]).toMatchObject({
      name: 'digest',
      queue: 'default',
      state: 'queued',
      attempts: 0,
      maxAttempts: 5,
      uniqueKey: null,
      lastError: null,
      finished: null,
    })
  })

  test('views one job; an unknown id is a 404', async () => {
    const id = await jobs().enqueue('digest', { to: 'ada' })
    const found = await get(`/api/jobs/${id}`)
    expect(found.statusCode).toBe(200)
    expect(found.json()).toMatchObject({ id, name: 'digest', payload: { to: 'ada' }, state: 'queued' })
    const missing = await get(`/api/jobs/${MISSING}`)
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['content-type']).toContain('application/problem+json')
  })

  test('a dead job is retried: it runs again with its attempts counted afresh', async () => {
    let isBroken = true
    jobs().register('fragile', () => {
      if (isBroken) throw new Error('still broken')
    })
    const id = await jobs().enqueue('fragile', null, { maxAttempts: 1 })
    await get('/api/health')
    await until(async () => (await jobs().get(id!))?.state === 'dead')
    isBroken = false
    const retried = await t.request({ method: 'POST', url: `/api/jobs/${id}/retry` })
    expect(retried.statusCode, retried.body).toBe(200)
    expect(retried.json()).toMatchObject({ id, state: 'queued', attempts: 0, lastError: 'still broken' })
    await until(async () => (await jobs().get(id!))?.state === 'succeeded')
    expect((await jobs().get(id!))!.attempts).toBe(1)
  })

  test('only failed and dead jobs can be retried', async () => {
    const queued = await jobs().enqueue('not-registered', null)
    const answer = await t.request({ method: 'POST', url: `/api/jobs/${queued}/retry` })
    expect(answer.statusCode).toBe(409)
    expect(answer.json().type).toBe('urn:plinth:error:job_not_retryable')
    expect(await jobs().get(queued!)).toMatchObject({ state: 'queued' })
    const missing = await t.request({ method: 'POST', url: `/api/jobs/${MISSING}/retry` })
    expect(missing.statusCode).toBe(404)
  })

  test('deletes a job that is not running; a running one is a 409', async () => {
    let release = () => {}
    jobs().register('held', () => new Promise<void>((resolve) => (release = resolve)))
    const running = await jobs().enqueue('held', null)
    const queued = await jobs().enqueue('not-registered', null)
    await get('/api/health')
    await until(async () => (await jobs().get(running!))?.state === 'running')

    const refused = await t.request({ method: 'DELETE', url: `/api/jobs/${running}` })
    expect(refused.statusCode).toBe(409)
    expect(refused.json().type).toBe('urn:plinth:error:job_running')
    expect(await jobs().get(running!)).not.toBeNull()

    const deleted = await t.request({ method: 'DELETE', url: `/api/jobs/${queued}` })
    expect(deleted.statusCode).toBe(204)
    expect(await jobs().get(queued!)).toBeNull()
    expect((await t.request({ method: 'DELETE', url: `/api/jobs/${queued}` })).statusCode).toBe(404)
    release()
  })

  test.for(badLists)('a list with $name is a 400', async ({ query }) => {
    await jobs().enqueue('digest', null)
    const answer = await get(`/api/jobs?${query}`)
    expect(answer.statusCode, answer.body).toBe(400)
    expect(answer.headers['content-type']).toContain('application/problem+json')
  })

  test.for(badIds)('the id %j is a 400 on every endpoint, and changes nothing', async (id) => {
    await jobs().enqueue('not-registered', null)
    const path = `/api/jobs/${encodeURIComponent(id)}`
    for (const [method, url] of [
      ['GET', path],
      ['POST', `${path}/retry`],
      ['DELETE', path],
    ] as const) {
      const answer = await t.request({ method, url })
      expect(answer.statusCode, `${method} ${url}: ${answer.body}`).toBe(400)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect(await countJobs()).toBe(1)
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    const id = await jobs().enqueue('not-registered', null)
    for (const [method, url] of [
      ['GET', '/api/jobs'],
      ['GET', '/api/jobs?nope=1'],
      ['GET', `/api/jobs/${id}`],
      ['POST', `/api/jobs/${id}/retry`],
      ['DELETE', `/api/jobs/${id}`],
      ['DELETE', '/api/jobs/not-a-uuid'],
    ] as const) {
      expect((await t.request({ method, url, auth: null })).statusCode, `${method} ${url}`).toBe(401)
      expect((await t.request({ method, url, auth: user })).statusCode, `${method} ${url}`).toBe(403)
    }
    expect(await jobs().get(id!)).toMatchObject({ state: 'queued' })
  })
})
