export type { BackupsConfig } from './backups-config.js'
export type { CacheConfig } from './cache-config.js'
export type { ClusterConfig } from './cluster-config.js'
export {
  defaultRateLimits,
  loadConfig,
  type PlinthConfig,
  type RateLimit,
  type RateLimits,
  type RealtimeConfig,
  type WebhooksConfig,
} from './config.js'
export { pausedCron } from './cron-expression.js'
export { ConfigError } from './env-values.js'
export type { FilesConfig, S3Config } from './files-config.js'
export type { TracesConfig } from './observability-config.js'
export { packageFile, readPackageFile } from './package-files.js'
export { effectiveSettings, type SecretSetting, type Settings } from './settings.js'
export { plinthVersion } from './version.js'
