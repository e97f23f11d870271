export const JOB_STATES = ['queued', 'running', 'succeeded', 'failed', 'dead'] as const

/** `failed` will be tried again at `runAt`; `dead` has used up its attempts. */
export type JobState = (typeof JOB_STATES)[number]

/** A job as the API shows it; times are ISO 8601. */
export interface Job {
  id: string
  name: string
  queue: string
  state: JobState
  payload: unknown
  priority: number
  /** Attempts started so far. */
  attempts: number
  maxAttempts: number
  uniqueKey: string | null
  runAt: string
  lockedUntil: string | null
  lastError: string | null
  created: string
  updated: string
  finished: string | null
}

export interface EnqueueOptions {
  /** Milliseconds from now before the job may run. */
  delay?: number
  /** When the job may run; wins over `delay`. */
  runAt?: Date
  /** Higher runs first among due jobs; default 0. */
  priority?: number
  /** Attempts before the job is dead; default 5. */
  maxAttempts?: number
  /** Delay before the first retry in ms, doubled for each further one (with jitter); default 1000. */
  backoff?: number
  /** Milliseconds an attempt may take before it counts as failed; default the handler's, else 60 s. */
  timeout?: number
  /** While a job with this key is queued, running or waiting to retry, enqueuing another is a no-op. */
  uniqueKey?: string
  /** A label to group and filter jobs by; default `default`. */
  queue?: string
}

/** What a handler learns about the attempt it runs. */
export interface JobInfo {
  job: { id: string; name: string; attempt: number }
  /** Aborted when the attempt times out or the worker stops without waiting for it. */
  signal: AbortSignal
}

export type JobHandler<Context extends object = object> = (
  payload: any,
  info: JobInfo & Context,
) => unknown | Promise<unknown>

export interface HandlerOptions {
  /** Attempts of this job name that may run at once in this process; default the queue's concurrency. */
  concurrency?: number
  /** Default timeout of this job name's attempts, in ms. */
  timeout?: number
}

/** A recurring job: `schedule` is a cron expression (5 fields, or 6 with seconds). */
export interface CronEntry {
  name: string
  schedule: string
  job: string
  payload?: unknown
  /** IANA time zone the expression is read in; default UTC. */
  timezone?: string
}

/** A cron entry as the API shows it. */
export interface CronSchedule {
  /** The entry's name. */
  id: string
  expression: string
  timezone: string
  /** The name of the job each tick enqueues. */
  job: string
  nextRun: string | null
  /** The newest tick claimed by any node; null before the first. */
  lastRun: string | null
  /** The job that tick enqueued, with its outcome; null before the first tick or once it was pruned. */
  lastJob: Job | null
}

/** The few methods of a pino logger the queue uses (Fastify's `app.log` is one). */
export interface JobLog {
  warn(object: object, message: string): void
  error(object: object, message: string): void
}

export interface JobQueueOptions<Context extends object = object> {
  /** Handed to every handler beside the job (records service, mailer, logger, …). */
  context?: Context
  /** Attempts that may run at once in this process; default 4. */
  concurrency?: number
  /** How often an idle worker looks for due jobs, in ms; default 1000. Enqueuing here wakes it at once. */
  pollInterval?: number
  /** How long succeeded and dead jobs are kept, in ms; default 7 days. */
  retention?: number
  /** Added to an attempt's timeout for its lease, so a slow finish is not mistaken for a dead worker; default 30 s. */
  leaseMargin?: number
  /** How long `stop()` waits for running attempts, in ms; default 10 s. */
  stopTimeout?: number
  log?: JobLog
  /** The clock, in ms since the epoch; tests move it by hand. */
  now?: () => number
}

/** A page of jobs, shaped like a page of records. */
export interface JobPage {
  items: Job[]
  page: number
  perPage: number
  totalItems: number
  totalPages: number
}

export interface JobListQuery {
  state?: JobState
  name?: string
  queue?: string
  /** Comma-separated fields, `-` for descending: created, updated, runAt, priority, name, state, attempts. */
  sort?: string
  page: number
  perPage: number
}
