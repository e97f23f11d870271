export {
  ConfigError,
  defaultRateLimits,
  loadConfig,
  type PlinthConfig,
  type RateLimit,
  type RateLimits,
  type RealtimeConfig,
} from './config.js'
