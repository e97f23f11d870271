/**
 * The effective configuration for superusers, secrets shown only as set or not, and a test
 * mail through the configured mail server.
 *
 * @example
 * await app.register(settingsRoutes, { config, registry, log })
 */
export { settingsRoutes } from './routes.js'
