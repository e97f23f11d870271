export {
  ConfigError,
  defaultRateLimits,
  loadConfig,
  type PlinthConfig,
  type RateLimit,
  type RateLimits,
  type WebhooksConfig,
} from './config.js'
