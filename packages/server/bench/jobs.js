// `npm run bench:jobs`: no-op jobs per second through the job queue, on SQLite and on
// PostgreSQL (BENCH_POSTGRES_URL, default the local server; skipped when unreachable).
// Each round enqueues BENCH_JOBS jobs and times the worker until every one has succeeded.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, runSystemMigrations } from '../dist/db/index.js'
import { JOBS_TABLE, JobQueue, jobsMigration } from '../dist/jobs/index.js'
import { freshPostgresSchema } from './settings.js'

const JOBS = Number(process.env.BENCH_JOBS ?? 5000)
const CONCURRENCY = Number(process.env.BENCH_JOBS_CONCURRENCY ?? 16)
const ROUNDS = 3
const TARGET_SQLITE = 1000

async function measure(settings) {
  const dialect = await openDatabase({ statementTimeoutMs: 60_000, poolSize: 10, ...settings })
  try {
    await runSystemMigrations(dialect, [jobsMigration])
    const rates = []
    for (let round = 0; round < ROUNDS; round += 1) {
      await dialect.db.deleteFrom(JOBS_TABLE).execute()
      const jobs = new JobQueue(dialect, { concurrency: CONCURRENCY, pollInterval: 50 })
      jobs.register('noop', () => {})
      for (let n = 0; n < JOBS; n += 1) await jobs.enqueue('noop', { n })
      const started = performance.now()
      jobs.start()
      await jobs.drain()
      const seconds = (performance.now() - started) / 1000
      await jobs.stop()
      const done = await dialect.db
        .selectFrom(JOBS_TABLE)
        .select((eb) => eb.fn.countAll().as('n'))
        .where('state', '=', 'succeeded')
        .executeTakeFirst()
      if (Number(done.n) !== JOBS) throw new Error(`only ${done.n} of ${JOBS} jobs succeeded`)
      rates.push(JOBS / seconds)
    }
    return rates.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]
  } finally {
    await dialect.close()
  }
}

async function main() {
  console.log(`No-op jobs, ${JOBS} per round, worker concurrency ${CONCURRENCY}, median of ${ROUNDS} rounds`)
  const dataDir = mkdtempSync(join(tmpdir(), 'plinth-bench-jobs-'))
  try {
    for (const sync of ['full', 'normal']) {
      const rate = await measure({ databaseUrl: null, dataDir, sqliteSync: sync })
      const verdict = rate >= TARGET_SQLITE ? 'meets' : 'misses'
      console.log(
        `SQLite (synchronous=${sync}): ${Math.round(rate)} jobs/s (${verdict} the target of ${TARGET_SQLITE}/s)`,
      )
      rmSync(join(dataDir, 'data.db'), { force: true })
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
  let schema
  try {
    schema = await freshPostgresSchema()
  } catch (error) {
    console.log(`PostgreSQL: skipped (${error.message})`)
    return
  }
  try {
    const rate = await measure({ databaseUrl: schema.url, dataDir: tmpdir(), sqliteSync: 'full' })
    console.log(`PostgreSQL: ${Math.round(rate)} jobs/s`)
  } finally {
    await schema.drop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
