import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { postgresSkipReason, shouldSkip, testDialects } from '../test-support/databases.js'
import { manualClock, openJobDatabase, stateOf, until } from '../test-support/job-queues.js'

type JobDatabase = Awaited<ReturnType<typeof openJobDatabase>>

describe.each(testDialects)('the job queue on %s', (kind) => {
  let db: JobDatabase
  let clock: ReturnType<typeof manualClock>

  beforeEach(async (context) => {
    if (shouldSkip(kind)) context.skip(postgresSkipReason())
    db = await openJobDatabase(kind)
    clock = manualClock()
  })
  afterEach(async () => db?.close())

  test('a job runs with its payload, the context and its attempt, then has succeeded', async () => {
    const jobs = await db.queue({ now: clock.now, context: { greeting: 'hello' } })
    const seen: unknown[] = []
    jobs.register('greet', async (payload, { job, signal, greeting }) => {
      seen.push({ payload, job, isAborted: signal.aborted, greeting })
    })
    jobs.start()
    const id = await jobs.enqueue('greet', { to: 'ada' })
    await jobs.drain()
    expect(seen).toEqual([
      { payload: { to: 'ada' }, job: { id, name: 'greet', attempt: 1 }, isAborted: false, greeting: 'hello' },
    ])
    expect(await jobs.get(id!)).toMatchObject({ state: 'succeeded', attempts: 1, lastError: null })
  })

  test('a delayed job waits for its time', async () => {
    const jobs = await db.queue({ now: clock.now })
    let runs = 0
    jobs.register('later', () => {
      runs += 1
    })
    jobs.start()
    const id = await jobs.enqueue('later', null, { delay: 60_000 })
    const at = await jobs.enqueue('later', null, { runAt: new Date(clock.now() + 120_000) })
    await jobs.drain()
    expect(runs).toBe(0)
    clock.advance(60_000)
    await until(async () => (await stateOf(jobs, id)) === 'succeeded')
    expect(await stateOf(jobs, at)).toBe('queued')
    clock.advance(60_000)
    await until(async () => (await stateOf(jobs, at)) === 'succeeded')
    expect(runs).toBe(2)
  })

  test('due jobs run by priority, then by run time', async () => {
    const jobs = await db.queue({ now: clock.now, concurrency: 1 })
    const order: string[] = []
    jobs.register('step', (payload: string) => {
      order.push(payload)
    })
    await jobs.enqueue('step', 'low, older', { delay: -2000 })
    await jobs.enqueue('step', 'high', { priority: 10 })
    await jobs.enqueue('step', 'low, newer', { delay: -1000 })
    await jobs.enqueue('step', 'middle', { priority: 5 })
    jobs.start()
    await jobs.drain()
    expect(order).toEqual(['high', 'middle', 'low, older', 'low, newer'])
  })

  test('a failing job is retried with exponential backoff and jitter, then succeeds', async () => {
    const jobs = await db.queue({ now: clock.now })
    const attempts: number[] = []
    jobs.register('flaky', (_payload, { job }) => {
      attempts.push(job.attempt)
      if (job.attempt < 3) throw new Error(`refused on attempt ${job.attempt}`)
    })
    jobs.start()
    const id = (await jobs.enqueue('flaky', null, { maxAttempts: 3, backoff: 1000 }))!
    await until(async () => (await stateOf(jobs, id)) === 'failed')
    const first = (await jobs.get(id))!
    expect(first).toMatchObject({ attempts: 1, lastError: 'refused on attempt 1', lockedUntil: null })
    const firstWait = Date.parse(first.runAt) - clock.now()
    expect(firstWait).toBeGreaterThanOrEqual(500)
    expect(firstWait).toBeLessThanOrEqual(1000)

    clock.advance(firstWait - 1)
    await jobs.drain()
    expect(attempts).toEqual([1])
    clock.advance(1)
    await until(async () => (await jobs.get(id))?.attempts === 2 && (await stateOf(jobs, id)) === 'failed')
    const secondWait = Date.parse((await jobs.get(id))!.runAt) - clock.now()
    expect(secondWait).toBeGreaterThanOrEqual(1000)
    expect(secondWait).toBeLessThanOrEqual(2000)

    clock.advance(secondWait)
    await until(async () => (await stateOf(jobs, id)) === 'succeeded')
    expect(attempts).toEqual([1, 2, 3])
  })

  test('an attempt over its timeout is aborted and counts as failed', async () => {
    const jobs = await db.queue({ now: clock.now })
    const signals: AbortSignal[] = []
    jobs.register(
      'slow',
      (_payload, { signal }) => {
        signals.push(signal)
        return new Promise(() => {})
      },
      { timeout: 50 },
    )
    jobs.start()
    const id = (await jobs.enqueue('slow', null, { maxAttempts: 1 }))!
    await until(async () => (await stateOf(jobs, id)) === 'dead')
    expect(signals).toHaveLength(1)
    expect(signals[0]!.aborted).toBe(true)
    expect((await jobs.get(id))!.lastError).toMatch(/timeout of 50 ms/)
    const perJob = (await jobs.enqueue('slow', null, { maxAttempts: 1, timeout: 20 }))!
    await until(async () => (await stateOf(jobs, perJob)) === 'dead')
    expect((await jobs.get(perJob))!.lastError).toMatch(/timeout of 20 ms/)
  })

  test('after its last attempt a job is dead and stays so', async () => {
    const jobs = await db.queue({ now: clock.now })
    let runs = 0
    jobs.register('doomed', () => {
      runs += 1
      throw new Error('always')
    })
    jobs.start()
    const id = (await jobs.enqueue('doomed', null, { maxAttempts: 2, backoff: 100 }))!
    await until(async () => (await stateOf(jobs, id)) === 'failed')
    clock.advance(100)
    await until(async () => (await stateOf(jobs, id)) === 'dead')
    clock.advance(24 * 60 * 60 * 1000)
    await jobs.drain()
    expect(runs).toBe(2)
    expect(await jobs.get(id)).toMatchObject({ state: 'dead', attempts: 2, lastError: 'always' })
    expect((await jobs.get(id))!.finished).not.toBeNull()
  })

  test('a unique key admits one pending job; once it is done the key is free again', async () => {
    const jobs = await db.queue({ now: clock.now })
    const first = await jobs.enqueue('digest', { n: 1 }, { uniqueKey: 'digest:ada' })
    expect(first).toBeTypeOf('string')
    expect(await jobs.enqueue('digest', { n: 2 }, { uniqueKey: 'digest:ada' })).toBeNull()
    expect(await jobs.enqueue('digest', { n: 3 }, { uniqueKey: 'digest:bob' })).toBeTypeOf('string')
    expect(await jobs.enqueue('digest', { n: 4 })).toBeTypeOf('string')
    jobs.register('digest', () => {})
    jobs.start()
    await jobs.drain()
    const again = await jobs.enqueue('digest', { n: 5 }, { uniqueKey: 'digest:ada' })
    expect(again).toBeTypeOf('string')
    expect(again).not.toBe(first)
    expect((await db.rows()).map((row) => JSON.parse(row.payload).n)).toEqual([1, 3, 4, 5])
  })

  test('a job enqueued in a transaction exists only if the transaction commits', async () => {
    const jobs = await db.queue({ now: clock.now })
    await expect(
      db.dialect.transaction(async (trx) => {
        await jobs.enqueue('receipt', { order: 1 }, {}, trx)
        throw new Error('the write was refused')
      }),
    ).rejects.toThrow('the write was refused')
    expect(await db.rows()).toEqual([])
    await db.dialect.transaction(async (trx) => {
      await jobs.enqueue('receipt', { order: 2 }, {}, trx)
    })
    expect((await db.rows()).map((row) => JSON.parse(row.payload))).toEqual([{ order: 2 }])
  })

  test('two workers on one database run each of many jobs exactly once', async () => {
    const runs = new Map<number, string[]>()
    const workers = await Promise.all(['a', 'b'].map(() => db.queue({ concurrency: 4 })))
    workers.forEach((worker, index) => {
      worker.register('count', async (n: number) => {
        runs.set(n, [...(runs.get(n) ?? []), `worker ${index}`])
        await new Promise((resolve) => setTimeout(resolve, 2))
      })
    })
    const total = 60
    for (let n = 0; n < total; n += 1) await workers[0]!.enqueue('count', n)
    for (const worker of workers) worker.start()
    await until(async () => (await db.rows()).every((row) => row.state === 'succeeded'), 20_000)
    expect([...runs.keys()].sort((a, b) => a - b)).toEqual([...Array(total).keys()])
    expect([...runs.values()].filter((by) => by.length !== 1)).toEqual([])
  })

  test('a job whose worker died is taken by another once its lease expires', async () => {
    const dying = await db.queue({ now: clock.now, leaseMargin: 30_000 })
    const started: string[] = []
    dying.register('report', () => {
      started.push('dying')
      return new Promise(() => {})
    })
    const id = (await dying.enqueue('report', null, { timeout: 60_000 }))!
    dying.start()
    await until(() => started.length === 1)
    // The process goes away mid-attempt: nothing records the end of the attempt.
    await dying.stop(0)
    expect(await dying.get(id)).toMatchObject({ state: 'running', attempts: 1 })

    const survivor = await db.queue({ now: clock.now })
    survivor.register('report', () => {
      started.push('survivor')
    })
    survivor.start()
    clock.advance(89_000)
    await survivor.drain()
    expect(started).toEqual(['dying'])
    clock.advance(2_000)
    await until(async () => (await stateOf(survivor, id)) === 'succeeded')
    expect(started).toEqual(['dying', 'survivor'])
    expect((await survivor.get(id))!.attempts).toBe(2)
  })

  test('stopping waits for the running attempt, then takes no more jobs', async () => {
    const jobs = await db.queue({ now: clock.now })
    let release = () => {}
    const started: number[] = []
    jobs.register('held', (n: number) => {
      started.push(n)
      return new Promise<void>((resolve) => (release = resolve))
    })
    const first = await jobs.enqueue('held', 1)
    jobs.start()
    await until(() => started.length === 1)
    const stopping = jobs.stop(10_000)
    const second = await jobs.enqueue('held', 2)
    release()
    await stopping
    expect(await stateOf(jobs, first)).toBe('succeeded')
    expect(await stateOf(jobs, second)).toBe('queued')
    expect(started).toEqual([1])
  })

  test('a cron entry fires once per tick across two nodes', async () => {
    const fired: string[] = []
    const nodes = await Promise.all([db.queue(), db.queue()])
    for (const node of nodes) {
      node.register('tick', (payload: { from: string }, { job }) => {
        fired.push(`${payload.from} ${job.id}`)
      })
      node.schedule([
        { name: 'every-second', schedule: '* * * * * *', job: 'tick', payload: { from: 'cron' } },
      ])
    }
    for (const node of nodes) node.start()
    await until(async () => (await db.rows()).filter((row) => row.state === 'succeeded').length >= 2, 5_000)
    for (const node of nodes) await node.stop()
    const rows = await db.rows()
    const keys = rows.map((row) => row.unique_key as string)
    expect(keys.every((key) => /^cron:every-second:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/.test(key))).toBe(
      true,
    )
    expect(new Set(keys).size).toBe(keys.length)
    expect(fired).toHaveLength(rows.filter((row) => row.state === 'succeeded').length)
  })

  test('a cron expression that cannot run is refused when scheduled', async () => {
    const jobs = await db.queue()
    expect(() => jobs.schedule([{ name: 'typo', schedule: '61 * * * *', job: 'x' }])).toThrow()
    expect(() =>
      jobs.schedule([
        { name: 'twice', schedule: '0 3 * * *', job: 'x' },
        { name: 'twice', schedule: '0 4 * * *', job: 'x' },
      ]),
    ).toThrow(/Two cron entries/)
  })

  test('pruning removes finished jobs older than the retention, and nothing pending', async () => {
    const jobs = await db.queue({ now: clock.now, retention: 1000 })
    jobs.register('done', () => {})
    jobs.start()
    const old = await jobs.enqueue('done', null)
    await jobs.drain()
    const pending = await jobs.enqueue('not-registered', null)
    clock.advance(1001)
    await jobs.prune()
    expect(await jobs.get(old!)).toBeNull()
    expect(await stateOf(jobs, pending)).toBe('queued')
  })
})
