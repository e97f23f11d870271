/**
 * Sign-in with OAuth2 and OpenID Connect providers.
 *
 * @example
 * await app.register(oauth2Routes, { db, box, records, signIn: auth.signIn, audit: auth.audit })
 */
export { ExternalAuthStore } from './external-auths.js'
export { oauth2Migration, oauth2Tables } from './migration.js'
export { providerSettingsInput } from './provider-settings.js'
export {
  completeBody as oauth2CompleteBody,
  type OAuth2RoutesOptions,
  oauth2Routes,
  startBody as oauth2StartBody,
} from './routes.js'
