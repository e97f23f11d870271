import type { CollectionRegistry } from '../collections/index.js'
import type { SecretBox } from '../crypto/index.js'
import type { Dialect } from '../db/index.js'
import { ForbiddenError } from '../errors/index.js'
import type { RecordService } from '../records/index.js'
import { ApiKeyService } from './api-keys/index.js'
import { AuditLog } from './audit.js'
import { Lockout } from './lockout.js'
import { createMfa, type MfaService, type RelyingParty } from './mfa/index.js'
import { setsNewPassword } from './new-password.js'
import { ExternalAuthStore } from './oauth2/index.js'
import { requireRecentSignIn } from './recent-sign-in.js'
import { SessionStore } from './sessions.js'
import { SignIn } from './sign-in.js'
import { SigningKeys } from './signing-keys.js'
import { TokenService } from './tokens.js'

export interface AuthSettings {
  issuer: string
  tokenTtl: number
  sessionTtl: number
  /** Where passkeys are valid: the RP ID and the origins of the pages that use them. */
  relyingParty: RelyingParty
  /** How recent a sign-in must be, in seconds, for a change that could take an account over. */
  reauthWindow: number
}

export interface AuthServices {
  keys: SigningKeys
  tokens: TokenService
  sessions: SessionStore
  lockout: Lockout
  audit: AuditLog
  signIn: SignIn
  apiKeys: ApiKeyService
  mfa: MfaService
}

/** Everything sign-in needs, wired once per app. */
export async function createAuthServices(
  dialect: Dialect,
  registry: CollectionRegistry,
  records: RecordService,
  box: SecretBox,
  settings: AuthSettings,
): Promise<AuthServices> {
  const db = dialect.db
  const keys = new SigningKeys(db, box)
  await keys.load()
  const tokens = new TokenService(db, keys, registry, {
    issuer: settings.issuer,
    ttlSeconds: settings.tokenTtl,
  })
  const sessions = new SessionStore(dialect)
  const audit = new AuditLog(db)
  const signIn = new SignIn(sessions, tokens, records, audit, { sessionLifetimeSeconds: settings.sessionTtl })
  // Sessions end in the transaction (see endSessionsOnNewPassword); their tokens verified
  // on this node are forgotten too, so they stop at once rather than within the cache window.
  records.onChange(async (_trx, change) => {
    if (setsNewPassword(change)) tokens.forgetRecord(change.collection.id, change.record.id as string)
  })
  // A new password locks everyone else out, so it takes a recent sign-in, not just a token
  // that may have been stolen; an API key cannot set one at all. Superusers administer.
  records.guardWrites((caller, action, collection, written) => {
    if (action !== 'update' || collection.type !== 'auth' || !written.includes('password')) return
    if (caller.isSuperuser) return
    if (caller.apiKey) throw new ForbiddenError('An API key cannot set a password; sign in to change it.')
    if (caller.session?.impersonatedBy)
      throw new ForbiddenError('An impersonation session cannot set a password.')
    requireRecentSignIn(caller, settings.reauthWindow)
  })
  // A deleted record takes its provider links along, in the same transaction.
  const externalAuths = new ExternalAuthStore(dialect.db)
  records.onChange(async (trx, change) => {
    if (change.action === 'delete' && change.collection.type === 'auth')
      await externalAuths.unlinkAll(trx, change.collection.id, change.record.id as string)
  })
  const apiKeys = new ApiKeyService(dialect, registry, audit)
  apiKeys.attach(records)
  const mfa = createMfa(dialect, box, audit, records, signIn, {
    relyingParty: settings.relyingParty,
    totpIssuer: new URL(settings.issuer).host,
  })
  return { keys, tokens, sessions, lockout: new Lockout(db), audit, signIn, apiKeys, mfa }
}
