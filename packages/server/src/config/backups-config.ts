import { pausedCron } from './cron-expression.js'
import { ConfigError, type Env, integer } from './env-values.js'

/** Backups the server makes on its own. */
export interface BackupsConfig {
  /** A cron expression (UTC) for scheduled backups; null makes none. */
  cron: string | null
  /** Archives kept after a scheduled backup: the newest ones. */
  keep: number
  /** `s3` (the bucket of the files) or a folder; null for the data folder's `backups/`. */
  to: string | null
}

function cron(env: Env): string | null {
  const raw = env.PLINTH_BACKUP_CRON?.trim()
  if (!raw) return null
  let next: Date | null
  try {
    next = pausedCron(raw).nextRun()
  } catch (error) {
    throw new ConfigError(
      'PLINTH_BACKUP_CRON',
      `not a cron expression such as "0 3 * * *": ${(error as Error).message}`,
    )
  }
  if (!next) throw new ConfigError('PLINTH_BACKUP_CRON', `"${raw}" never runs`)
  return raw
}

export function backupsConfig(env: Env): BackupsConfig {
  return {
    cron: cron(env),
    keep: integer(env, 'PLINTH_BACKUP_KEEP', 7, 1, 10_000),
    to: env.PLINTH_BACKUP_TO?.trim() || null,
  }
}
