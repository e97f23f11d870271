/**
 * Backups of a whole instance (database, files of records, instance secret) as one checked
 * archive, their restore, scheduled backups through the job queue, and the move of a SQLite
 * deployment's data into PostgreSQL.
 *
 * @example
 * const destination = await openDestination(config, 's3')
 * await createBackup(config, core.dialect, destination)
 * await restoreBackup('plinth-backup-….tar.gz', config, systemMigrations(), { force: false })
 */
export { type BackupResult, createBackup } from './backup.js'
export {
  type DataMigrationProgress,
  type DataMigrationResult,
  migrateData,
  type OpenDatabase,
} from './data-migration.js'
export { type BackupDestination, openDestination } from './destinations.js'
export type { Manifest } from './manifest.js'
export { type RestoreResult, restoreBackup } from './restore.js'
export { backupsRoutes } from './routes.js'
export { BACKUP_JOB, scheduleBackups } from './schedule.js'
export { type BackupInfo, BackupService, type Restart } from './service.js'
