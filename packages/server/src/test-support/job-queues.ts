import { expect } from 'vitest'
import { type Dialect, openDatabase, runSystemMigrations } from '../db/index.js'
import {
  JOBS_TABLE,
  JobQueue,
  type JobQueueOptions,
  jobsMigration,
  jobsTraceMigration,
} from '../jobs/index.js'
import type { TestDialect } from './databases.js'
import { openTestDatabase } from './dialect-fixture.js'

/** A clock that moves only when told to. */
export function manualClock(start = Date.UTC(2030, 0, 1)) {
  let now = start
  return {
    now: () => now,
    advance(ms: number) {
      now += ms
    },
  }
}

/** Waits for `check` to hold, looking every few milliseconds, failing after `within` ms. */
export async function until(check: () => Promise<boolean> | boolean, within = 10_000): Promise<void> {
  const deadline = Date.now() + within
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('The condition did not hold in time.')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * A fresh database with the jobs tables, and queues on it. Each queue opens its own
 * connection, as a separate node would; `close` stops them all and removes the database.
 */
export async function openJobDatabase(kind: TestDialect) {
  const database = await openTestDatabase(kind)
  await runSystemMigrations(database.dialect, [jobsMigration, jobsTraceMigration])
  const opened: Array<{ queue: JobQueue<any>; dialect: Dialect }> = []
  return {
    dialect: database.dialect,
    async queue<C extends object = object>(options: JobQueueOptions<C> = {}): Promise<JobQueue<C>> {
      const dialect = await openDatabase({
        databaseUrl: database.databaseUrl,
        dataDir: database.dataDir,
        sqliteSync: 'normal',
        statementTimeoutMs: 10_000,
        poolSize: 4,
        preparedStatements: true,
      })
      const queue = new JobQueue<C>(dialect, { pollInterval: 10, ...options })
      opened.push({ queue, dialect })
      return queue
    },
    async rows(): Promise<Array<Record<string, any>>> {
      return database.dialect.db.selectFrom(JOBS_TABLE).selectAll().orderBy('created').orderBy('id').execute()
    },
    async close() {
      for (const { queue, dialect } of opened) {
        await queue.stop(0)
        await dialect.close()
      }
      await database.close()
    },
  }
}

export async function stateOf(queue: JobQueue<any>, id: string | null): Promise<string | undefined> {
  expect(id).toBeTypeOf('string')
  return (await queue.get(id!))?.state
}
