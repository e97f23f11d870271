import { type Kysely, sql } from 'kysely'
import { newId } from '../crypto/index.js'
import type { Dialect } from '../db/index.js'
import { ConflictError, NotFoundError } from '../errors/index.js'
import { JOBS_TABLE, pendingKey } from './migration.js'
import { JOB_STATES, type Job, type JobListQuery, type JobPage, type JobState } from './types.js'

/** A row of `_jobs` as the driver returns it (bigints may arrive as strings). */
export interface JobRow {
  id: string
  name: string
  queue: string
  payload: string
  state: JobState
  priority: number
  attempts: number
  max_attempts: number
  backoff_ms: number
  timeout_ms: number
  unique_key: string | null
  run_at: number | string
  locked_by: string | null
  locked_until: number | string | null
  last_error: string | null
  created: number | string
  updated: number | string
  finished: number | string | null
  trace_parent: string | null
}

export interface NewJob {
  name: string
  queue: string
  payload: unknown
  priority: number
  maxAttempts: number
  backoff: number
  timeout: number
  uniqueKey: string | null
  runAt: number
  /** The trace the job continues when it runs, or null. */
  traceparent: string | null
}

const SORTABLE: Record<string, string> = {
  created: 'created',
  updated: 'updated',
  runAt: 'run_at',
  priority: 'priority',
  name: 'name',
  state: 'state',
  attempts: 'attempts',
}

export const JOB_SORT_FIELDS = Object.keys(SORTABLE)
const field = `-?(${JOB_SORT_FIELDS.join('|')})`
export const SORT_PATTERN = `^${field}(,${field}){0,6}$`

const iso = (ms: number | string) => new Date(Number(ms)).toISOString()
const isoOrNull = (ms: number | string | null) => (ms === null ? null : iso(ms))

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    state: row.state,
    payload: JSON.parse(row.payload),
    priority: Number(row.priority),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    uniqueKey: row.unique_key,
    runAt: iso(row.run_at),
    lockedUntil: isoOrNull(row.locked_until),
    lastError: row.last_error,
    created: iso(row.created),
    updated: iso(row.updated),
    finished: isoOrNull(row.finished),
  }
}

// A bound number is an int4 to PostgreSQL unless told otherwise; epoch milliseconds need 64 bits.
const big = (ms: number) => sql<number>`cast(${ms} as bigint)`

/** The SQL of the queue; every time is a value the caller binds. */
export class JobStore {
  constructor(private readonly dialect: Dialect) {}

  get db(): Kysely<any> {
    return this.dialect.db
  }

  /** The new job's id, or null when a pending job holds its unique key. */
  async insert(job: NewJob, now: number, db: Kysely<any> = this.db): Promise<string | null> {
    const id = newId()
    const rows = await db
      .insertInto(JOBS_TABLE)
      .values({
        id,
        name: job.name,
        queue: job.queue,
        payload: JSON.stringify(job.payload ?? null),
        state: 'queued',
        priority: job.priority,
        attempts: 0,
        max_attempts: job.maxAttempts,
        backoff_ms: job.backoff,
        timeout_ms: job.timeout,
        unique_key: job.uniqueKey,
        run_at: job.runAt,
        trace_parent: job.traceparent,
        created: now,
        updated: now,
      })
      // The predicate picks the partial unique index: PostgreSQL matches it as written, so no bound values.
      .onConflict((oc) => oc.column('unique_key').where(pendingKey).doNothing())
      .returning('id')
      .execute()
    return rows.length > 0 ? id : null
  }

  /**
   * Takes up to `limit` due jobs of these names for one attempt each, by priority then
   * run time. Where writers run concurrently the rows are locked and locked ones
   * skipped, so two workers never take the same job; SQLite runs one writer at a time.
   */
  async claim(
    names: string[],
    limit: number,
    token: string,
    now: number,
    leaseMargin: number,
  ): Promise<JobRow[]> {
    let due = this.db
      .selectFrom(JOBS_TABLE)
      .select('id')
      .where('state', 'in', ['queued', 'failed'])
      .where('run_at', '<=', big(now))
      .where('name', 'in', names)
      .orderBy('priority', 'desc')
      .orderBy('run_at')
      .orderBy('id')
      .limit(limit)
    if (this.dialect.supports.rowLocks) due = due.forUpdate().skipLocked()
    return (await this.db
      .updateTable(JOBS_TABLE)
      .set({
        state: 'running',
        attempts: sql`attempts + 1`,
        locked_by: token,
        locked_until: sql`${big(now + leaseMargin)} + timeout_ms`,
        updated: now,
      })
      .where('id', 'in', due)
      .returningAll()
      .execute()) as JobRow[]
  }

  /** Records the end of an attempt, if this worker still holds the job's lease. */
  async finish(
    row: JobRow,
    outcome: { state: 'succeeded' | 'failed' | 'dead'; error?: string; runAt?: number },
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable(JOBS_TABLE)
      .set({
        state: outcome.state,
        locked_by: null,
        locked_until: null,
        last_error: outcome.error ?? null,
        ...(outcome.runAt === undefined ? {} : { run_at: outcome.runAt }),
        updated: now,
        finished: outcome.state === 'failed' ? null : now,
      })
      .where('id', '=', row.id)
      .where('locked_by', '=', row.locked_by)
      .execute()
  }

  /** Records the success of several attempts in one statement (one commit), each if its lease still holds. */
  async succeed(rows: JobRow[], now: number): Promise<void> {
    await this.db
      .updateTable(JOBS_TABLE)
      .set({
        state: 'succeeded',
        locked_by: null,
        locked_until: null,
        last_error: null,
        updated: now,
        finished: now,
      })
      .where((eb) =>
        eb.or(rows.map((row) => eb.and([eb('id', '=', row.id), eb('locked_by', '=', row.locked_by)]))),
      )
      .execute()
  }

  /** Jobs whose worker stopped without finishing (its lease ran out) fail that attempt. */
  async reapExpired(now: number): Promise<void> {
    await this.db
      .updateTable(JOBS_TABLE)
      .set((eb) => ({
        state: eb.case().when('attempts', '>=', eb.ref('max_attempts')).then('dead').else('failed').end(),
        finished: eb.case().when('attempts', '>=', eb.ref('max_attempts')).then(big(now)).else(null).end(),
        locked_by: null,
        locked_until: null,
        last_error: 'The worker stopped before the attempt finished (its lease expired).',
        run_at: now,
        updated: now,
      }))
      .where('state', '=', 'running')
      .where('locked_until', '<', big(now))
      .execute()
  }

  async prune(before: number): Promise<void> {
    await this.db
      .deleteFrom(JOBS_TABLE)
      .where('state', 'in', ['succeeded', 'dead'])
      .where('finished', '<', big(before))
      .execute()
  }

  /** How many jobs are in each state; a state without jobs is 0. */
  async countByState(): Promise<Record<JobState, number>> {
    const rows = await this.db
      .selectFrom(JOBS_TABLE)
      .select(['state', (eb) => eb.fn.countAll().as('count')])
      .groupBy('state')
      .execute()
    const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>
    for (const row of rows)
      if (Object.hasOwn(counts, row.state)) counts[row.state as JobState] = Number(row.count)
    return counts
  }

  async list(query: JobListQuery): Promise<JobPage> {
    let filtered = this.db.selectFrom(JOBS_TABLE)
    if (query.state) filtered = filtered.where('state', '=', query.state)
    if (query.name !== undefined) filtered = filtered.where('name', '=', query.name)
    if (query.queue !== undefined) filtered = filtered.where('queue', '=', query.queue)
    const counted = await filtered.select((eb) => eb.fn.countAll().as('n')).executeTakeFirst()
    const totalItems = Number(counted?.n ?? 0)
    let page = filtered
      .selectAll()
      .limit(query.perPage)
      .offset((query.page - 1) * query.perPage)
    for (const part of (query.sort || '-created').split(',')) {
      const isDescending = part.startsWith('-')
      const column = SORTABLE[isDescending ? part.slice(1) : part]
      if (column) page = page.orderBy(column, isDescending ? 'desc' : 'asc')
    }
    const rows = (await page.orderBy('id', 'desc').execute()) as JobRow[]
    return {
      items: rows.map(toJob),
      page: query.page,
      perPage: query.perPage,
      totalItems,
      totalPages: Math.ceil(totalItems / query.perPage),
    }
  }

  /** The jobs holding these unique keys, pending or not. */
  async byUniqueKeys(keys: string[]): Promise<JobRow[]> {
    if (keys.length === 0) return []
    return (await this.db
      .selectFrom(JOBS_TABLE)
      .selectAll()
      .where('unique_key', 'in', keys)
      .execute()) as JobRow[]
  }

  async get(id: string): Promise<JobRow | undefined> {
    return (await this.db.selectFrom(JOBS_TABLE).selectAll().where('id', '=', id).executeTakeFirst()) as
      | JobRow
      | undefined
  }

  /** Puts a failed or dead job back in the queue, due now, with its attempts counted afresh. */
  async retry(id: string, now: number): Promise<Job> {
    const job = await this.get(id)
    if (!job) throw new NotFoundError('job')
    if (job.state !== 'failed' && job.state !== 'dead')
      throw new ConflictError(
        'job_not_retryable',
        `A ${job.state} job cannot be retried; only failed and dead jobs can.`,
      )
    try {
      const rows = (await this.db
        .updateTable(JOBS_TABLE)
        .set({ state: 'queued', attempts: 0, run_at: now, finished: null, updated: now })
        .where('id', '=', id)
        .where('state', 'in', ['failed', 'dead'])
        .returningAll()
        .execute()) as JobRow[]
      if (!rows[0])
        throw new ConflictError('job_not_retryable', 'The job changed state meanwhile; read it again.')
      return toJob(rows[0])
    } catch (error) {
      if (this.dialect.constraintViolation(error)?.kind !== 'unique') throw error
      throw new ConflictError(
        'job_not_retryable',
        'Another job with the same unique key is pending; this one cannot be retried until it is done.',
      )
    }
  }

  /** Deletes a job that is not running. */
  async remove(id: string): Promise<void> {
    const deleted = await this.db
      .deleteFrom(JOBS_TABLE)
      .where('id', '=', id)
      .where('state', '!=', 'running')
      .executeTakeFirst()
    if (Number(deleted.numDeletedRows) > 0) return
    if (await this.get(id)) throw new ConflictError('job_running', 'A running job cannot be deleted.')
    throw new NotFoundError('job')
  }
}
