import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Dialect } from '../db/index.js'
import { currentTraceparent, runTraced } from '../telemetry/index.js'
import { retryDelay } from './backoff.js'
import { CronTimers, claimTick, describeSchedules, tickKey } from './cron.js'
import { type JobRow, JobStore, toJob } from './store.js'
import type {
  CronEntry,
  CronSchedule,
  EnqueueOptions,
  HandlerOptions,
  Job,
  JobHandler,
  JobListQuery,
  JobLog,
  JobPage,
  JobQueueOptions,
  JobState,
} from './types.js'

const DEFAULTS = { maxAttempts: 5, backoff: 1000, timeout: 60_000, queue: 'default' }
const HOUR = 60 * 60 * 1000
const silent: JobLog = { warn() {}, error() {} }

/** What a job's span says of it: never its payload, which may hold personal data. */
function jobAttributes(row: JobRow): Record<string, string | number> {
  return {
    'messaging.operation.type': 'process',
    'plinth.job.id': row.id,
    'plinth.job.name': row.name,
    'plinth.job.attempt': Number(row.attempts),
  }
}

interface Registered {
  handler: JobHandler<any>
  concurrency: number
  timeout?: number
  running: number
}

/** The reason an attempt is aborted when `stop()` gives up waiting: the lease, not this process, decides what happens next. */
class WorkerStoppedError extends Error {
  constructor() {
    super('The worker stopped before the attempt finished.')
    this.name = 'WorkerStoppedError'
  }
}

class JobTimeoutError extends Error {
  constructor(ms: number) {
    super(`The attempt took longer than its timeout of ${ms} ms.`)
    this.name = 'JobTimeoutError'
  }
}

/**
 * A durable job queue in the database, with a worker and cron schedules. Several
 * processes may share one database: each job's attempt runs in one of them at a
 * time, under a lease that another takes over when the process dies.
 */
export class JobQueue<Context extends object = object> {
  readonly #store: JobStore
  readonly #handlers = new Map<string, Registered>()
  readonly #running = new Set<Promise<void>>()
  readonly #aborters = new Set<AbortController>()
  readonly #enqueuing = new Set<Promise<unknown>>()
  readonly #cron: CronTimers
  readonly #dialect: Dialect
  readonly #options: Required<Omit<JobQueueOptions<Context>, 'context'>> & { context: Context }
  #loop: Promise<void> | null = null
  #isStarted = false
  #wakeUp: (() => void) | null = null
  #hasWakeCall = false
  #drainWaiters: Array<() => void> = []
  #lastMaintenance = Number.NEGATIVE_INFINITY
  #successes: JobRow[] = []
  #successWrite: Promise<void> | null = null

  constructor(dialect: Dialect, options: JobQueueOptions<Context> = {}) {
    this.#store = new JobStore(dialect)
    this.#dialect = dialect
    this.#options = {
      context: options.context ?? ({} as Context),
      concurrency: options.concurrency ?? 4,
      pollInterval: options.pollInterval ?? 1000,
      retention: options.retention ?? 7 * 24 * HOUR,
      leaseMargin: options.leaseMargin ?? 30_000,
      stopTimeout: options.stopTimeout ?? 10_000,
      log: options.log ?? silent,
      now: options.now ?? Date.now,
    }
    this.#cron = new CronTimers(this.#options.now, (entry, tick) => this.#fireTick(entry, tick))
  }

  /**
   * Adds a job; pass the write transaction as `trx` to add it only if that commits.
   * Answers the job's id, or null when a pending job already holds `uniqueKey`.
   */
  enqueue(
    name: string,
    payload: unknown,
    options: EnqueueOptions = {},
    trx?: Kysely<any>,
  ): Promise<string | null> {
    const now = this.#options.now()
    const adding = this.#store.insert(
      {
        name,
        queue: options.queue ?? DEFAULTS.queue,
        payload,
        priority: options.priority ?? 0,
        maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
        backoff: options.backoff ?? DEFAULTS.backoff,
        timeout: options.timeout ?? this.#handlers.get(name)?.timeout ?? DEFAULTS.timeout,
        uniqueKey: options.uniqueKey ?? null,
        runAt: options.runAt?.getTime() ?? now + (options.delay ?? 0),
        traceparent: currentTraceparent(),
      },
      now,
      trx,
    )
    this.#enqueuing.add(adding)
    void adding.then(
      () => {
        this.#enqueuing.delete(adding)
        this.#wake()
      },
      () => this.#enqueuing.delete(adding),
    )
    return adding
  }

  /** Says how to run jobs of this name; this process's worker only takes names it knows. */
  register(name: string, handler: JobHandler<Context>, options: HandlerOptions = {}): void {
    this.#handlers.set(name, {
      handler,
      concurrency: options.concurrency ?? this.#options.concurrency,
      timeout: options.timeout,
      running: 0,
    })
    this.#wake()
  }

  /** Enqueues `job` once per tick of each entry, across every process sharing the database. */
  schedule(entries: CronEntry[]): void {
    this.#cron.add(entries)
    if (this.#isStarted) this.#cron.start()
  }

  /** Each cron entry with its next tick, its last one and the outcome of the job that tick enqueued. */
  schedules(): Promise<CronSchedule[]> {
    return describeSchedules(this.#dialect.db, this.#cron.list(), (keys) => this.#store.byUniqueKeys(keys))
  }

  /** Enqueues an entry's job now, beside its schedule; answers the job, or null when no entry has the name. */
  async runSchedule(name: string): Promise<Job | null> {
    const entry = this.#cron.list().find((listed) => listed.entry.name === name)?.entry
    if (!entry) return null
    const id = await this.enqueue(entry.job, entry.payload ?? null)
    return id ? this.get(id) : null
  }

  start(): void {
    if (this.#isStarted) return
    this.#isStarted = true
    this.#cron.start()
    this.#loop = this.#work()
  }

  /**
   * Stops taking jobs and waits for the running attempts, at most `timeout` ms; those
   * still running then are aborted and left to their lease.
   */
  async stop(timeout = this.#options.stopTimeout): Promise<void> {
    if (!this.#isStarted) return
    this.#isStarted = false
    this.#cron.stop()
    this.#wake()
    await this.#loop
    let timer: NodeJS.Timeout | undefined
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout)
    })
    await Promise.race([Promise.allSettled([...this.#running]), limit])
    clearTimeout(timer)
    for (const aborter of this.#aborters) aborter.abort(new WorkerStoppedError())
    for (const resolve of this.#drainWaiters.splice(0)) resolve()
  }

  /**
   * Resolves once the jobs enqueued so far by this process, and every other due job
   * this worker can run, have had their attempt (a retry due later does not count).
   */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#enqueuing])
    if (!this.#isStarted) return
    await new Promise<void>((resolve) => {
      this.#drainWaiters.push(resolve)
      this.#wake()
    })
  }

  list(query: JobListQuery): Promise<JobPage> {
    return this.#store.list(query)
  }

  /** How many jobs are in each state, across every node: the depth of the queue. */
  countByState(): Promise<Record<JobState, number>> {
    return this.#store.countByState()
  }

  async get(id: string): Promise<Job | null> {
    const row = await this.#store.get(id)
    return row ? toJob(row) : null
  }

  /** A failed or dead job runs again now, with its attempts counted afresh. */
  async retry(id: string): Promise<Job> {
    const job = await this.#store.retry(id, this.#options.now())
    this.#wake()
    return job
  }

  /** Deletes a job that is not running. */
  remove(id: string): Promise<void> {
    return this.#store.remove(id)
  }

  /** Deletes succeeded and dead jobs that finished longer than the retention ago. */
  prune(): Promise<void> {
    return this.#store.prune(this.#options.now() - this.#options.retention)
  }

  async #fireTick(entry: CronEntry, tick: number): Promise<void> {
    try {
      await this.#dialect.transaction(async (trx) => {
        if (!(await claimTick(trx, entry.name, tick))) return
        await this.enqueue(entry.job, entry.payload ?? null, { uniqueKey: tickKey(entry.name, tick) }, trx)
      })
    } catch (error) {
      this.#options.log.error({ err: error, cron: entry.name }, 'enqueuing a cron job failed')
    }
  }

  #wake(): void {
    this.#hasWakeCall = true
    this.#wakeUp?.()
  }

  async #work(): Promise<void> {
    while (this.#isStarted) {
      const waiters = this.#drainWaiters.splice(0)
      let claimed = 0
      try {
        await this.#maintain()
        claimed = await this.#claim()
      } catch (error) {
        this.#options.log.error({ err: error }, 'the job worker could not reach the database')
      }
      if (claimed === 0 && this.#running.size === 0) for (const resolve of waiters) resolve()
      else this.#drainWaiters.push(...waiters)
      if (claimed === 0) await this.#idle()
    }
  }

  /** Lease expiry every poll; pruning hourly. */
  async #maintain(): Promise<void> {
    const now = this.#options.now()
    if (now - this.#lastMaintenance < this.#options.pollInterval) return
    const shouldPrune = Math.floor(now / HOUR) !== Math.floor(this.#lastMaintenance / HOUR)
    this.#lastMaintenance = now
    await this.#store.reapExpired(now)
    if (shouldPrune) await this.prune()
  }

  async #claim(): Promise<number> {
    const free = this.#options.concurrency - this.#running.size
    const open = [...this.#handlers].filter(([, h]) => h.running < h.concurrency)
    if (free <= 0 || open.length === 0) return 0
    const limit = Math.min(free, ...open.map(([, h]) => h.concurrency - h.running))
    const rows = await this.#store.claim(
      open.map(([name]) => name),
      limit,
      randomUUID(),
      this.#options.now(),
      this.#options.leaseMargin,
    )
    for (const row of rows) {
      const attempt = this.#attempt(row).finally(() => {
        this.#running.delete(attempt)
        this.#wake()
      })
      this.#running.add(attempt)
    }
    return rows.length
  }

  #idle(): Promise<void> {
    if (this.#hasWakeCall || !this.#isStarted) {
      this.#hasWakeCall = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#options.pollInterval)
      const self = this
      function done() {
        clearTimeout(timer)
        self.#wakeUp = null
        self.#hasWakeCall = false
        resolve()
      }
      this.#wakeUp = done
    })
  }

  async #attempt(row: JobRow): Promise<void> {
    const registered = this.#handlers.get(row.name)!
    registered.running += 1
    const aborter = new AbortController()
    this.#aborters.add(aborter)
    const timeout = Number(row.timeout_ms)
    const timer = setTimeout(() => aborter.abort(new JobTimeoutError(timeout)), timeout)
    // A handler that ignores its signal is left behind: the attempt ends when the signal fires.
    const aborted = new Promise<never>((_resolve, reject) => {
      aborter.signal.addEventListener('abort', () => reject(aborter.signal.reason), { once: true })
    })
    try {
      const info = {
        ...this.#options.context,
        job: { id: row.id, name: row.name, attempt: Number(row.attempts) },
        signal: aborter.signal,
      }
      await runTraced(`process ${row.name}`, row.trace_parent, jobAttributes(row), () =>
        Promise.race([(async () => registered.handler(JSON.parse(row.payload), info))(), aborted]),
      )
      await this.#succeeded(row)
    } catch (error) {
      if (aborter.signal.reason instanceof WorkerStoppedError) return
      await this.#failed(row, error).catch((reason) =>
        this.#options.log.error({ err: reason, job: row.id }, 'recording a failed job attempt failed'),
      )
    } finally {
      clearTimeout(timer)
      this.#aborters.delete(aborter)
      registered.running -= 1
    }
  }

  /**
   * Successes that end in the same turn of the event loop are written together: with
   * synchronous commits, one write per job would cap the queue at the disk's flush rate.
   */
  #succeeded(row: JobRow): Promise<void> {
    this.#successes.push(row)
    this.#successWrite ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const rows = this.#successes.splice(0)
      this.#successWrite = null
      return this.#store.succeed(rows, this.#options.now())
    })
    return this.#successWrite
  }

  async #failed(row: JobRow, error: unknown): Promise<void> {
    const attempt = Number(row.attempts)
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 2000)
    const isDead = attempt >= Number(row.max_attempts)
    this.#options.log.warn(
      { job: { id: row.id, name: row.name, attempt }, err: error },
      isDead ? 'a job failed for the last time' : 'a job attempt failed; it will be retried',
    )
    const now = this.#options.now()
    await this.#store.finish(
      row,
      isDead
        ? { state: 'dead', error: message }
        : { state: 'failed', error: message, runAt: now + retryDelay(Number(row.backoff_ms), attempt) },
      now,
    )
  }
}
