import { randomInt } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type { Kysely } from 'kysely'
import { type CollectionDefinition, OTP_LENGTH } from '../../collections/index.js'
import { constantTimeEqual, randomToken, sha256 } from '../../crypto/index.js'
import { BadRequestError } from '../../errors/index.js'
import { superuser } from '../../identity/index.js'
import type { RecordService } from '../../records/index.js'
import type { AuditLog } from '../audit.js'
import type { Lockout } from '../lockout.js'
import type { SignIn, SignInResult } from '../sign-in.js'
import { accountByEmail, accountById, normalizeEmail } from './accounts.js'
import type { AuthTokenStore } from './auth-tokens.js'
import type { Postbox } from './postbox.js'

export interface OtpFlowDeps {
  db: Kysely<any>
  records: RecordService
  lockout: Lockout
  audit: AuditLog
  signIn: SignIn
  tokens: AuthTokenStore
  postbox: Postbox
}

/** `options.otp = { enabled: true, length?: 6..10 }` turns one-time codes on for a collection. */
function otpSettings(collection: CollectionDefinition): { length: number } {
  const { otp } = collection.options
  if (otp?.enabled !== true)
    throw new BadRequestError(`Sign-in with one-time codes is not enabled for ${collection.name}.`)
  return { length: otp.length ?? OTP_LENGTH.default }
}

function codeHash(otpId: string, code: string): string {
  return sha256(`${otpId}:${code}`)
}

function wrongCode(): BadRequestError {
  return new BadRequestError('The code is wrong or has expired; ask for a new one.', 'invalid_credentials')
}

/**
 * Sign-in with a code sent by mail. `request-otp` always answers with an otpId:
 * for an unknown address it belongs to a decoy that no code matches, so neither
 * the answer nor any later attempt tells the two apart.
 */
export class OtpFlow {
  constructor(private readonly deps: OtpFlowDeps) {}

  async request(collection: CollectionDefinition, rawEmail: string): Promise<{ otpId: string }> {
    const { length } = otpSettings(collection)
    const email = normalizeEmail(collection, rawEmail, 'email')
    await this.deps.lockout.check(collection, email)
    const account = await accountByEmail(this.deps.db, collection, email)
    const otpId = randomToken(24)
    const code = String(randomInt(0, 10 ** length)).padStart(length, '0')
    await this.deps.tokens.issue({
      purpose: 'otp',
      collectionId: collection.id,
      recordId: account?.id ?? null,
      // A decoy's hash comes from a secret that is not a code, so nothing can match it.
      data: { email, codeHash: codeHash(otpId, account ? code : randomToken(16)) },
      secret: otpId,
    })
    if (account)
      this.deps.postbox.post(this.deps.postbox.compose(collection, 'otp', email, { CODE: code }), 'otp')
    return { otpId }
  }

  /**
   * Each try spends one of the OTP's attempts before the code is compared, and a
   * wrong code also counts toward the address's sign-in lockout. A right code
   * proves the address, so the record becomes verified.
   */
  async authenticate(
    request: FastifyRequest,
    collection: CollectionDefinition,
    otpId: string,
    code: string,
  ): Promise<SignInResult | { mfaId: string }> {
    otpSettings(collection)
    const stored = await this.deps.tokens.find(otpId, 'otp', collection.id)
    if (!stored) throw wrongCode()
    await this.deps.lockout.check(collection, stored.data.email)
    if (!(await this.deps.tokens.claimAttempt(stored))) throw wrongCode()
    if (!constantTimeEqual(codeHash(otpId, code), stored.data.codeHash ?? '') || !stored.recordId) {
      await this.deps.lockout.fail(collection, stored.data.email)
      await this.deps.audit.record({
        event: 'sign_in_failed',
        collectionId: collection.id,
        recordId: stored.recordId,
        ip: request.ip,
        detail: { method: 'otp' },
      })
      throw wrongCode()
    }
    const recordId = stored.recordId
    await this.deps.records.batch(superuser, async (scope) => {
      if (!(await this.deps.tokens.spend(scope.db, stored))) throw wrongCode()
      const account = await accountById(scope.db, collection, recordId)
      if (!account || account.email !== stored.data.email) throw wrongCode()
      if (!account.verified) await scope.update(collection.name, recordId, { verified: true })
    })
    await this.deps.lockout.succeed(collection, stored.data.email)
    return this.deps.signIn.complete(request, collection, recordId, 'otp')
  }
}
