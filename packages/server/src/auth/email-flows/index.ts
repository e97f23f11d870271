/**
 * Email verification, password reset, email change and sign-in with one-time
 * codes, and the `/_/auth/<action>` pages their mails link to.
 *
 * @example
 * await app.register(emailFlowsRoutes, { db, records, mailer, publicUrl, appName, ...auth })
 */
export { AUTH_TOKENS_TABLE } from './auth-tokens.js'
export { emailTokensMigration } from './migration.js'
export { composeMail } from './postbox.js'
export {
  confirmEmailChangeBody,
  type EmailFlowsRoutesOptions,
  emailBody as emailAddressBody,
  emailChangeBody,
  emailFlowsRoutes,
  otpBody as otpSignInBody,
  resetBody as passwordResetBody,
  tokenBody as emailTokenBody,
} from './routes.js'
