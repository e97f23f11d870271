export { createMfa } from './create-mfa.js'
export type { MfaService } from './mfa-service.js'
export { mfaMigration, mfaTables } from './migration.js'
export type { RelyingParty } from './passkeys.js'
export { mfaRoutes } from './routes.js'
export {
  authWithMfaBody,
  authWithPasskeyBody,
  codeBody as totpCodeBody,
  passkeyOptionsBody,
  proofBody as secondFactorProofBody,
  registerVerifyBody as passkeyRegistrationBody,
} from './schemas.js'
