import { type Kysely, sql } from 'kysely'
import type { SystemMigration } from '../db/index.js'

export const JOBS_TABLE = '_jobs'
export const CRON_TABLE = '_cron'

/** States in which a job still has work ahead; a unique key is taken while its job is in one. */
export const PENDING_STATES = ['queued', 'running', 'failed'] as const

/** The predicate of the partial unique index on `unique_key`, spelled the same wherever it is named. */
export const pendingKey = sql<boolean>`unique_key is not null and state in (${sql.join(PENDING_STATES.map((s) => sql.lit(s)))})`

/**
 * Times are milliseconds since the epoch in bigint columns: the worker compares them
 * with values it binds itself, so no database clock or time zone is involved.
 */
export const jobsMigration: SystemMigration = {
  name: '0060_jobs',
  async up(db: Kysely<any>) {
    await db.schema
      .createTable(JOBS_TABLE)
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('backoff_ms', 'integer', (c) => c.notNull())
      .addColumn('timeout_ms', 'integer', (c) => c.notNull())
      .addColumn('unique_key', 'text')
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('locked_by', 'text')
      .addColumn('locked_until', 'bigint')
      .addColumn('last_error', 'text')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .addColumn('finished', 'bigint')
      .execute()
    await db.schema.createIndex('_jobs_due').on(JOBS_TABLE).columns(['state', 'run_at']).execute()
    await db.schema.createIndex('_jobs_by_name').on(JOBS_TABLE).columns(['name', 'created']).execute()
    await db.schema
      .createIndex('_jobs_unique_pending')
      .on(JOBS_TABLE)
      .column('unique_key')
      .unique()
      .where(pendingKey)
      .execute()
    await db.schema
      .createTable(CRON_TABLE)
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_tick', 'bigint', (c) => c.notNull())
      .execute()
  },
}

/**
 * The W3C `traceparent` of the work that enqueued a job (a traced request), so the job's
 * span continues that trace; null when nothing was traced.
 */
export const jobsTraceMigration: SystemMigration = {
  name: '0110_jobs_trace_parent',
  async up(db: Kysely<any>) {
    await db.schema.alterTable(JOBS_TABLE).addColumn('trace_parent', 'text').execute()
  },
}
