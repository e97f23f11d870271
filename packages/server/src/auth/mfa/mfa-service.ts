import type { AuthenticationResponseJSON } from '@simplewebauthn/server'
import type { Kysely } from 'kysely'
import type { CollectionDefinition } from '../../collections/index.js'
import type { SecretBox } from '../../crypto/index.js'
import type { Dialect } from '../../db/index.js'
import { BadRequestError, ForbiddenError, UnauthorizedError } from '../../errors/index.js'
import type { AuditLog } from '../audit.js'
import { defaultLockout, Lockout } from '../lockout.js'
import type { SecondFactorGate, SignInMethod } from '../sign-in.js'
import { MfaChallenges } from './challenges.js'
import { Passkeys, type RelyingParty } from './passkeys.js'
import { RecoveryCodes } from './recovery-codes.js'
import { type FactorOwner, TotpFactor } from './totp.js'

export interface MfaSettings {
  relyingParty: RelyingParty
  /** The issuer an authenticator app shows next to the account. */
  totpIssuer: string
}

/** How a second factor is proven: one of these per request. */
export type SecondFactorProof =
  | { code: string }
  | { recoveryCode: string }
  | { passkey: AuthenticationResponseJSON }

type Factor = 'totp' | 'recovery_code' | 'passkey'

/** Whether the collection asks every record for a second factor (`options.mfa.required`). */
function isMfaRequired(collection: CollectionDefinition): boolean {
  return collection.options.mfa?.required === true
}

const wrongProof = () => new BadRequestError('The second factor is wrong.', 'invalid_credentials')
const endedChallenge = () =>
  new UnauthorizedError('The MFA challenge is unknown, used up or expired; sign in again.', 'invalid_token')

/**
 * Second factors of auth records (TOTP with recovery codes, passkeys) and the gate
 * that asks for them at sign-in. A record with a factor enrolled always needs it;
 * a passkey sign-in is complete on its own.
 */
export class MfaService implements SecondFactorGate {
  readonly totp: TotpFactor
  readonly recoveryCodes: RecoveryCodes
  readonly challenges: MfaChallenges
  readonly passkeys: Passkeys
  // Failed proofs are counted per record across challenges, so starting over does not
  // buy an attacker who knows the password five more guesses every time.
  readonly #failures: Lockout

  constructor(
    private readonly dialect: Dialect,
    box: SecretBox,
    private readonly audit: AuditLog,
    private readonly settings: MfaSettings,
  ) {
    this.totp = new TotpFactor(dialect, box)
    this.recoveryCodes = new RecoveryCodes(dialect.db)
    this.challenges = new MfaChallenges(dialect.db)
    this.passkeys = new Passkeys(dialect.db, settings.relyingParty)
    this.#failures = new Lockout(dialect.db, defaultLockout, 'mfa')
  }

  async challenge(
    collection: CollectionDefinition,
    recordId: string,
    method: SignInMethod,
  ): Promise<string | null> {
    if (method === 'passkey') return null
    if (!(await this.hasFactor({ collectionId: collection.id, recordId }))) return null
    return this.challenges.create(collection.id, recordId, method)
  }

  /** A record of a collection that requires MFA, signing in before it enrolled a factor. */
  async annotate(collection: CollectionDefinition, recordId: string): Promise<Record<string, unknown>> {
    if (!isMfaRequired(collection)) return {}
    return (await this.hasFactor({ collectionId: collection.id, recordId }))
      ? {}
      : { mfaEnrollmentRequired: true }
  }

  async hasFactor(owner: FactorOwner): Promise<boolean> {
    return (await this.totp.isEnabled(owner)) || (await this.passkeys.count(owner)) > 0
  }

  async status(collection: CollectionDefinition, owner: FactorOwner) {
    const totp = await this.totp.isEnabled(owner)
    const passkeys = await this.passkeys.count(owner)
    return {
      required: isMfaRequired(collection) || totp || passkeys > 0,
      enrollmentRequired: isMfaRequired(collection) && !totp && passkeys === 0,
      totp,
      recoveryCodesLeft: totp ? await this.recoveryCodes.remaining(owner) : 0,
      passkeys,
    }
  }

  setupTotp(owner: FactorOwner, label: string) {
    return this.totp.setup(owner, label, this.settings.totpIssuer)
  }

  /** Turns TOTP on and answers the recovery codes, shown this once. */
  async confirmTotp(owner: FactorOwner, code: string, ip: string): Promise<string[]> {
    const codes = await this.dialect.transaction(async (trx) => {
      if (!(await this.totp.confirm(trx, owner, code))) return null
      const codes = await this.recoveryCodes.replace(trx, owner)
      await this.audit.record(
        { event: 'mfa_enabled', ...this.who(owner, ip), detail: { factor: 'totp' } },
        trx,
      )
      return codes
    })
    if (!codes) throw wrongProof()
    return codes
  }

  async disableTotp(
    collection: CollectionDefinition,
    owner: FactorOwner,
    proof: SecondFactorProof,
    ip: string,
  ) {
    await this.prove(collection, owner, proof, ip)
    await this.dialect.transaction(async (trx) => {
      await this.totp.remove(trx, owner)
      await this.recoveryCodes.clear(trx, owner)
      await this.audit.record(
        { event: 'mfa_disabled', ...this.who(owner, ip), detail: { factor: 'totp' } },
        trx,
      )
    })
  }

  async replaceRecoveryCodes(
    collection: CollectionDefinition,
    owner: FactorOwner,
    proof: SecondFactorProof,
    ip: string,
  ): Promise<string[]> {
    if (!(await this.totp.isEnabled(owner))) throw new BadRequestError('Turn on TOTP first.')
    await this.prove(collection, owner, proof, ip)
    return this.dialect.transaction((trx) => this.recoveryCodes.replace(trx, owner))
  }

  /** Answers the record of an open challenge once its second factor is proven, spending it. */
  async pass(
    collection: CollectionDefinition,
    mfaId: string,
    proof: SecondFactorProof,
    ip: string,
  ): Promise<{ recordId: string; method: SignInMethod }> {
    const challenge = await this.challenges.find(mfaId, collection.id)
    if (!challenge) throw endedChallenge()
    const owner = { collectionId: collection.id, recordId: challenge.record_id }
    try {
      await this.prove(collection, owner, proof, ip, mfaId)
    } catch (error) {
      await this.challenges.fail(mfaId)
      throw error
    }
    if (!(await this.challenges.consume(mfaId))) throw endedChallenge()
    return { recordId: challenge.record_id, method: challenge.method }
  }

  async passkeyOptionsFor(collection: CollectionDefinition, mfaId: string) {
    const challenge = await this.challenges.find(mfaId, collection.id)
    if (!challenge) throw endedChallenge()
    return this.passkeys.authenticationOptions(collection.id, { mfaId, recordId: challenge.record_id })
  }

  /** The record a passkey signs in without a password, or null when it does not verify. */
  async passwordless(
    collection: CollectionDefinition,
    response: AuthenticationResponseJSON,
  ): Promise<string | null> {
    const recordId = await this.passkeys.authenticate(collection.id, response)
    if (!recordId) return null
    const record = await this.dialect.db
      .selectFrom(collection.name)
      .select(['id', 'verified'])
      .where('id', '=', recordId)
      .executeTakeFirst()
    if (!record) return null
    if (collection.options.onlyVerified === true && !record.verified)
      throw new ForbiddenError('Verify your email address before signing in.')
    return recordId
  }

  /** Drops every factor of a record that is being deleted, inside its transaction. */
  async forget(db: Kysely<any>, owner: FactorOwner): Promise<void> {
    await this.totp.remove(db, owner)
    await this.recoveryCodes.clear(db, owner)
    await this.passkeys.removeAll(db, owner)
  }

  /** Checks a proof against the record's factors, counting failures towards the lockout. */
  private async prove(
    collection: CollectionDefinition,
    owner: FactorOwner,
    proof: SecondFactorProof,
    ip: string,
    mfaId?: string,
  ): Promise<Factor> {
    await this.#failures.check(collection, owner.recordId)
    const factor = await this.check(owner, proof, mfaId)
    if (factor === null) {
      await this.#failures.fail(collection, owner.recordId)
      await this.audit.record({
        event: 'mfa_failed',
        ...this.who(owner, ip),
        detail: { factor: factorOf(proof) },
      })
      throw wrongProof()
    }
    await this.#failures.succeed(collection, owner.recordId)
    if (factor === 'recovery_code')
      await this.audit.record({ event: 'recovery_code_used', ...this.who(owner, ip) })
    return factor
  }

  private async check(owner: FactorOwner, proof: SecondFactorProof, mfaId?: string): Promise<Factor | null> {
    if ('code' in proof) return (await this.totp.verify(owner, proof.code)) ? 'totp' : null
    if ('recoveryCode' in proof)
      return (await this.recoveryCodes.consume(owner, proof.recoveryCode)) ? 'recovery_code' : null
    if (!mfaId) return null
    const recordId = await this.passkeys.authenticate(owner.collectionId, proof.passkey, {
      mfaId,
      recordId: owner.recordId,
    })
    return recordId === owner.recordId ? 'passkey' : null
  }

  private who(owner: FactorOwner, ip: string) {
    return { collectionId: owner.collectionId, recordId: owner.recordId, ip }
  }
}

function factorOf(proof: SecondFactorProof): Factor {
  return 'code' in proof ? 'totp' : 'recoveryCode' in proof ? 'recovery_code' : 'passkey'
}
