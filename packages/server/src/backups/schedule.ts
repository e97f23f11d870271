import type { Logger } from 'pino'
import type { PlinthConfig } from '../config/index.js'
import type { Dialect } from '../db/index.js'
import type { JobQueue } from '../jobs/index.js'
import { createBackup } from './backup.js'
import { openDestination } from './destinations.js'

export const BACKUP_JOB = 'plinth.backups.create'
/** A large instance's archive takes a while; past this the lease lets another node run it again. */
const BACKUP_TIMEOUT_MS = 6 * 60 * 60 * 1000

/**
 * Registers the job that makes a backup and prunes the archives past PLINTH_BACKUP_KEEP, and
 * schedules it when PLINTH_BACKUP_CRON is set. Each tick is claimed by one node only, so a
 * cluster makes one backup per tick; a failed one is retried like any job.
 */
export function scheduleBackups<Context extends object>(
  jobs: JobQueue<Context>,
  config: PlinthConfig,
  dialect: Dialect,
  log: Logger,
): void {
  jobs.register(
    BACKUP_JOB,
    async function makeBackup() {
      const destination = await openDestination(config, config.backups.to)
      try {
        const { location, size, pruned, manifest } = await createBackup(config, dialect, destination, {
          keep: config.backups.keep,
        })
        const missing = manifest.files.included ? manifest.files.missing : []
        if (missing.length > 0)
          log.warn({ location, missing }, 'files of records were missing from storage during the backup')
        log.info({ location, bytes: size, pruned }, 'backup made')
      } finally {
        await destination.close()
      }
    },
    { concurrency: 1, timeout: BACKUP_TIMEOUT_MS },
  )
  if (config.backups.cron)
    jobs.schedule([{ name: BACKUP_JOB, schedule: config.backups.cron, job: BACKUP_JOB }])
}
