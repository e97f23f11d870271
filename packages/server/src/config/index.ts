export {
  ConfigError,
  defaultRateLimits,
  loadConfig,
  type PlinthConfig,
  type RateLimit,
  type RateLimits,
  type RealtimeConfig,
  type WebhooksConfig,
} from './config.js'
