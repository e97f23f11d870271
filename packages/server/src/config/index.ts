export {
  ConfigError,
  defaultRateLimits,
  loadConfig,
  type PlinthConfig,
  type RateLimit,
  type RateLimits,
} from './config.js'
