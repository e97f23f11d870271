import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest'
import { loadConfig } from '../config/index.js'
import { type Core, createCore } from '../core/index.js'
import { freshPostgresUrl, postgresSkipReason, shouldSkip } from '../test-support/databases.js'
import { until } from '../test-support/job-queues.js'
import { writeProjectConfig } from '../test-support/project.js'
import { type ServerProcess, startServer } from '../test-support/server-process.js'

const SECRET = 'process-test-secret-process-test-secret-1'
const WORKER_ENV = {
  PLINTH_SECRET: SECRET,
  PLINTH_LOG_LEVEL: 'warn',
  PLINTH_JOBS_POLL_INTERVAL_MS: '20',
  PLINTH_JOBS_CONCURRENCY: '8',
  PLINTH_JOBS_LEASE_MARGIN_MS: '500',
}
const JOBS = 120

// Each run leaves a row naming its job and the process that ran it.
const source = `
export default {
  jobs: {
    async work({ n }, { records, job }) {
      await records.create('runs', { n, job: job.id, pid: process.pid })
    },
    // The first attempt never ends by itself: only a killed worker lets the job go.
    async hang(_payload, { records, job }) {
      if (job.attempt === 1) {
        await records.create('runs', { n: -1, job: job.id, pid: process.pid })
        await new Promise(() => {})
      }
      await records.create('runs', { n: -2, job: job.id, pid: process.pid })
    },
    async tick(_payload, { records, job }) {
      await records.create('ticks', { job: job.id, pid: process.pid })
    },
  },
  cron: [{ name: 'every-second', schedule: '* * * * * *', job: 'tick' }],
}
`

const skip = shouldSkip('postgres')

describe('two Plinth processes sharing one PostgreSQL', () => {
  let core: Core
  let database: { url: string; drop: () => Promise<void> }
  let project: { file: string; remove(): void }
  const dataDirs: string[] = []
  const servers: ServerProcess[] = []

  beforeAll(async () => {
    if (skip) return
    database = await freshPostgresUrl()
    const dataDir = mkdtempSync(join(tmpdir(), 'plinth-jobs-'))
    dataDirs.push(dataDir)
    core = await createCore(
      loadConfig({}, { dataDir, databaseUrl: database.url, secret: SECRET, logLevel: 'silent' }),
    )
    await core.collections.create({
      name: 'runs',
      fields: [
        { name: 'n', type: 'number' },
        { name: 'job', type: 'text' },
        { name: 'pid', type: 'number' },
      ],
    })
    await core.collections.create({
      name: 'ticks',
      fields: [
        { name: 'job', type: 'text' },
        { name: 'pid', type: 'number' },
      ],
    })
    project = writeProjectConfig(source)
    for (let i = 0; i < 2; i++) servers.push(await worker())
  })

  async function worker(): Promise<ServerProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'plinth-jobs-'))
    dataDirs.push(dir)
    return startServer(['--config', project.file, '--dir', dir, '--database-url', database.url], WORKER_ENV)
  }

  async function rowsOf(n: number) {
    return core.dialect.db.selectFrom('runs').select(['job', 'pid']).where('n', '=', n).execute()
  }

  beforeEach((context) => {
    if (skip) context.skip(postgresSkipReason())
  })
  afterAll(async () => {
    for (const server of servers) {
      server.child.kill('SIGTERM')
      await server.exited
    }
    await core?.close()
    await database?.drop()
    project?.remove()
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true })
  })

  test('each job runs exactly once while both processes compete for the queue', async () => {
    for (let n = 0; n < JOBS; n++) await core.jobs.enqueue('work', { n })
    const db = core.dialect.db
    const deadline = Date.now() + 30_000
    let done = 0
    while (done < JOBS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      done = Number(
        (await db.selectFrom('runs').select(db.fn.countAll().as('count')).executeTakeFirst())?.count,
      )
    }
    const runs = await db.selectFrom('runs').select(['n', 'job', 'pid']).execute()
    expect(runs).toHaveLength(JOBS)
    expect(new Set(runs.map((run) => run.n)).size).toBe(JOBS)
    expect(new Set(runs.map((run) => run.job)).size).toBe(JOBS)
    // A job is marked succeeded after its handler's write commits, in a statement of its own.
    const succeeded = async () =>
      (await db.selectFrom('_jobs').select('state').where('name', '=', 'work').execute()).every(
        (job) => job.state === 'succeeded',
      )
    await until(succeeded, 10_000)
    expect(await succeeded()).toBe(true)
  })

  test('a job whose worker is killed (SIGKILL) runs again on another node once its lease expires', async () => {
    const id = await core.jobs.enqueue('hang', {}, { timeout: 3_000, maxAttempts: 2, backoff: 10 })
    const deadline = Date.now() + 15_000
    let started = await rowsOf(-1)
    while (started.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      started = await rowsOf(-1)
    }
    expect(started).toHaveLength(1)
    const holder = servers.find((server) => server.child.pid === started[0]!.pid)!
    holder.child.kill('SIGKILL')
    await holder.exited
    servers.splice(servers.indexOf(holder), 1, await worker())
    let finished = await rowsOf(-2)
    while (finished.length === 0 && Date.now() < deadline + 15_000) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      finished = await rowsOf(-2)
    }
    expect(finished).toHaveLength(1)
    expect(finished[0]!.job).toBe(id)
    expect(finished[0]!.pid).not.toBe(holder.child.pid)
    // The run's row commits before the queue records how the run ended, in a transaction of its own.
    await until(async () => (await core.jobs.get(id!))?.state !== 'running', 15_000)
    expect(await core.jobs.get(id!)).toMatchObject({ state: 'succeeded', attempts: 2 })
  })

  test('a cron schedule fires once per tick across both processes', async () => {
    const db = core.dialect.db
    const enqueuedTicks = () =>
      db.selectFrom('_jobs').select(['id', 'unique_key']).where('name', '=', 'tick').execute()
    // At least three seconds, so both processes meet several ticks; longer when a loaded machine
    // starts the schedule late.
    await new Promise((resolve) => setTimeout(resolve, 3_500))
    await until(async () => (await enqueuedTicks()).length >= 2)
    const ticks = await enqueuedTicks()
    expect(ticks.length).toBeGreaterThanOrEqual(2)
    expect(new Set(ticks.map((tick) => tick.unique_key)).size).toBe(ticks.length)
    const deadline = Date.now() + 10_000
    let runs = await db.selectFrom('ticks').select('job').execute()
    while (runs.length < ticks.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      runs = await db.selectFrom('ticks').select('job').execute()
    }
    const ran = runs.map((run) => run.job)
    expect(new Set(ran).size).toBe(ran.length)
    for (const tick of ticks.slice(0, -1)) expect(ran).toContain(tick.id)
  })
})
