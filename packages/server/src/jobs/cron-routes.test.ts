import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { passwordSignIn, signUp } from '../test-support/accounts.js'
import { createTestApp, type TestApp } from '../test-support/app.js'
import { createCollection } from '../test-support/blog.js'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'

const badIds = [
  { id: '__proto__', status: 404 },
  { id: 'constructor', status: 404 },
  { id: 'prototype', status: 404 },
  { id: 'toString', status: 404 },
  { id: "nightly' or '1'='1", status: 404 },
  { id: 'x'.repeat(201), status: 414 },
]

describe.each(testDialects)('/api/crons on %s', (kind) => {
  let t: TestApp
  const ran: unknown[] = []

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    t = await createTestApp(kind, {
      jobs: { concurrency: 4, pollIntervalMs: 10, retentionDays: 7, leaseMarginMs: 30_000 },
    })
    ran.length = 0
    t.app.plinth.jobs.register('digest', (payload) => {
      ran.push(payload)
    })
    t.app.plinth.jobs.schedule([{ name: 'nightly', schedule: '0 3 * * *', job: 'digest', payload: { n: 1 } }])
  })
  afterEach(async () => t?.close())

  const crons = async () => {
    const answer = await t.request({ method: 'GET', url: '/api/crons' })
    expect(answer.statusCode, answer.body).toBe(200)
    return answer.json() as Array<Record<string, any>>
  }
  const entry = async (id: string) => (await crons()).find((cron) => cron.id === id)

  test('lists each schedule with its next run; before its first tick it has no last run', async () => {
    const nightly = await entry('nightly')
    expect(nightly).toEqual({
      id: 'nightly',
      expression: '0 3 * * *',
      timezone: 'Etc/UTC',
      job: 'digest',
      nextRun: expect.stringMatching(/T03:00:00\.000Z$/),
      lastRun: null,
      lastJob: null,
    })
    expect(new Date(nightly!.nextRun).getTime()).toBeGreaterThan(Date.now())
    // Plinth's own schedules are listed too.
    expect((await crons()).map((cron) => cron.id)).toEqual(expect.arrayContaining(['nightly']))
  })

  test('after a tick, the last run and the outcome of its job are shown', async () => {
    let isBroken = true
    t.app.plinth.jobs.register('flaky', () => {
      if (isBroken) throw new Error('broken on purpose')
    })
    t.app.plinth.jobs.schedule([
      { name: 'every-second', schedule: '* * * * * *', job: 'flaky', payload: null },
    ])
    await until(async () => (await entry('every-second'))?.lastJob?.lastError === 'broken on purpose')
    const failed = await entry('every-second')
    expect(new Date(failed!.lastRun).getTime()).toBeLessThanOrEqual(Date.now())
    expect(failed!.lastJob).toMatchObject({ name: 'flaky', lastError: 'broken on purpose' })
    isBroken = false
    await until(async () => (await entry('every-second'))?.lastJob?.state === 'succeeded')
  })

  test('runs a schedule now: its job is enqueued with its payload and runs', async () => {
    const answer = await t.request({ method: 'POST', url: '/api/crons/nightly' })
    expect(answer.statusCode, answer.body).toBe(201)
    const job = answer.json()
    expect(job).toMatchObject({ name: 'digest', payload: { n: 1 } })
    expect(answer.headers.location).toBe(`/api/jobs/${job.id}`)
    await until(() => ran.length === 1)
    expect(ran).toEqual([{ n: 1 }])
    // A run by hand is not a tick of the schedule.
    expect((await entry('nightly'))!.lastRun).toBeNull()
  })

  test.for(badIds)('the id $id is a $status, and runs nothing', async ({ id, status }) => {
    const answer = await t.request({ method: 'POST', url: `/api/crons/${encodeURIComponent(id)}` })
    expect(answer.statusCode, answer.body).toBe(status)
    expect(answer.headers['content-type']).toContain('application/problem+json')
    expect((await t.app.plinth.jobs.list({ page: 1, perPage: 10 })).totalItems).toBe(0)
  })

  test('bodies, query parameters and JSON that are not wanted are 4xx problems', async () => {
    for (const [url, body, status] of [
      ['/api/crons/nightly', '{"payload":{"n":2}}', 400],
      ['/api/crons/nightly', '{"__proto__":{"n":2}}', 400],
      ['/api/crons/nightly', '[1]', 400],
      ['/api/crons/nightly', '{"payload":', 400],
      ['/api/crons/nightly?force=1', '{}', 400],
      ['/api/crons/nightly', `{"x":"${'y'.repeat(2 * 1024 * 1024)}"}`, 413],
    ] as const) {
      const answer = await t.request({
        method: 'POST',
        url,
        body,
        headers: { 'content-type': 'application/json' },
      })
      expect(answer.statusCode, `${url} ${body.slice(0, 40)}: ${answer.body}`).toBe(status)
      expect(answer.headers['content-type']).toContain('application/problem+json')
    }
    expect((await t.request({ method: 'GET', url: '/api/crons?sort=id' })).statusCode).toBe(400)
    expect((await t.app.plinth.jobs.list({ page: 1, perPage: 10 })).totalItems).toBe(0)
  })

  test('anonymous callers get 401 and other users 403, before their input is read', async () => {
    await createCollection(t, { name: 'users', type: 'auth', createRule: '' })
    await signUp(t, 'ada@example.com')
    const user = (await passwordSignIn(t, 'ada@example.com')).json().token as string
    const jobsBefore = (await t.app.plinth.jobs.list({ page: 1, perPage: 10 })).totalItems
    for (const [method, url] of [
      ['GET', '/api/crons'],
      ['GET', '/api/crons?nope=1'],
      ['POST', '/api/crons/nightly'],
      ['POST', '/api/crons/__proto__'],
    ] as const) {
      expect((await t.request({ method, url, auth: null })).statusCode, `${method} ${url}`).toBe(401)
      expect((await t.request({ method, url, auth: user })).statusCode, `${method} ${url}`).toBe(403)
    }
    expect((await t.app.plinth.jobs.list({ page: 1, perPage: 10 })).totalItems).toBe(jobsBefore)
  })
})
