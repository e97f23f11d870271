/**
 * Durable jobs in the database: a queue with retries, a worker that several nodes
 * share, and cron schedules that fire once per tick across them.
 *
 * @example
 * const jobs = new JobQueue(dialect, { context: { records }, pollInterval: 1000 })
 * jobs.register('sendReceipt', async ({ orderId }, { records, signal }) => { … })
 * jobs.schedule([{ name: 'nightly-digest', schedule: '0 3 * * *', job: 'sendDigest' }])
 * jobs.start()
 * await jobs.enqueue('sendReceipt', { orderId }, { delay: 60_000 }, trx)
 */

export { cronsRoutes } from './cron-routes.js'
export { CRON_TABLE, JOBS_TABLE, jobsMigration, jobsTraceMigration } from './migration.js'
export { JobQueue } from './queue.js'
export { jobsRoutes } from './routes.js'
export { JOB_SORT_FIELDS } from './store.js'
export {
  type CronEntry,
  type CronSchedule,
  type EnqueueOptions,
  type HandlerOptions,
  JOB_STATES,
  type Job,
  type JobHandler,
  type JobInfo,
  type JobPage,
  type JobQueueOptions,
  type JobState,
} from './types.js'
