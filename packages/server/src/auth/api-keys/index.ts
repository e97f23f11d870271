export { API_KEYS_TABLE, ApiKeyService, MAX_KEYS_PER_RECORD } from './api-keys.js'
export { authenticateApiKey, isApiKeyHeader } from './authenticate.js'
export {
  MAX_NAME_LENGTH as MAX_API_KEY_NAME_LENGTH,
  MAX_SCOPES as MAX_API_KEY_SCOPES,
  recordOperations,
} from './key-input.js'
export { apiKeysMigration } from './migration.js'
export { apiKeyRoutes } from './routes.js'
