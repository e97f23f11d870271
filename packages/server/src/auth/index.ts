export { type ActiveCredentials, activeCredentials } from './active-credentials.js'
export {
  apiKeyRoutes,
  apiKeysMigration,
  MAX_API_KEY_NAME_LENGTH,
  MAX_API_KEY_SCOPES,
  MAX_KEYS_PER_RECORD,
  recordOperations,
} from './api-keys/index.js'
export { AUDIT_TABLE, type AuditEvent, AuditLog, auditEvents } from './audit.js'
export {
  ACCESS_COOKIE,
  AUTH_MODE_HEADER,
  CSRF_COOKIE,
  CSRF_HEADER,
  CsrfTokens,
  cookieMode,
  handlesSessions,
  REFRESH_COOKIE,
} from './cookie-mode.js'
export {
  AUTH_TOKENS_TABLE,
  composeMail,
  confirmEmailChangeBody,
  emailAddressBody,
  emailChangeBody,
  emailFlowsRoutes,
  emailTokenBody,
  emailTokensMigration,
  otpSignInBody,
  passwordResetBody,
} from './email-flows/index.js'
export { forgetAuthCollection } from './forget-auth-collection.js'
export { impersonationRoutes, MAX_IMPERSONATION_SECONDS } from './impersonation.js'
export { Lockout, SIGN_IN_FAILURES_TABLE } from './lockout.js'
export {
  authWithMfaBody,
  authWithPasskeyBody,
  mfaMigration,
  mfaRoutes,
  passkeyOptionsBody,
  passkeyRegistrationBody,
  secondFactorProofBody,
  totpCodeBody,
} from './mfa/index.js'
export { endSessionsOnNewPassword } from './new-password.js'
export {
  oauth2CompleteBody,
  oauth2Migration,
  oauth2Routes,
  oauth2StartBody,
  providerSettingsInput,
} from './oauth2/index.js'
export { accessTokenOf, authentication } from './plugin.js'
export { recordSessionsRoutes } from './record-sessions.js'
export { authRoutes, passwordSignIn as passwordSignInBody, setupBody } from './routes.js'
export { type AuthServices, createAuthServices } from './services.js'
export { REFRESH_TOKENS_TABLE, SESSIONS_TABLE, SessionStore } from './sessions.js'
export { createSetupLink, SETUP_TOKENS_TABLE } from './setup.js'
export { type SecondFactorGate, SignIn, type SignInMethod, type SignInResult } from './sign-in.js'
export { KEYS_TABLE, SigningKeys } from './signing-keys.js'
export { countSuperusers, superusersDefinition, upsertSuperuser } from './superusers.js'
export { SUPERUSERS, TokenService } from './tokens.js'
